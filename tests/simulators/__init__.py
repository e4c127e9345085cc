"""Tests of the device simulators themselves."""
