"""Tests of the Cozify Hub client and models."""
