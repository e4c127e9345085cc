"""Fixtures for the EMS history import: the recorder, plus the EMS fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.gavazzi_ems import data, simulator

from ..gavazzi_ems.conftest import ems_entry, ems_simulator, setup_ems

__all__ = ["ems_entry", "ems_simulator", "setup_ems"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Start the recorder before the custom integrations are enabled."""


@pytest.fixture(autouse=True)
def cached_history_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the simulator compute each history row once.

    It builds every row of the requested range for each page it serves; a
    first import reads 7 days of 8 counters in 6 pages. The rows are pure
    functions of the load, the signal and the period end.
    """
    rows: dict[tuple[int, int, int], dict[str, Any]] = {}

    def history_row(
        load: data.Load, signal: data.Signal, period_end: int
    ) -> dict[str, Any]:
        key = (load.uid, signal.uid, period_end)
        if key not in rows:
            rows[key] = data.history_row(load, signal, period_end)
        return rows[key]

    monkeypatch.setattr(simulator, "history_row", history_row)
