"""Benchmarks that print figures; run them with scripts/bench."""
