"""Tests of the HAN reader's history import into long-term statistics."""
