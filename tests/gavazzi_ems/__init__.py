"""Tests of the Carlo Gavazzi EMS gateway."""
