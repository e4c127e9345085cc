"""Tests of the EMS history import into long-term statistics (with the recorder)."""
