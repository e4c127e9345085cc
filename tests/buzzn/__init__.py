"""Tests of the BUZZN device type."""
