"""Tests for the Cozify HAN reader device type."""
