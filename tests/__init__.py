"""Tests for the Energy Gateways integration."""
