"""Fixtures for the EMS history import: the recorder, plus the EMS fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from ..gavazzi_ems.conftest import ems_entry, ems_simulator, setup_ems

__all__ = ["ems_entry", "ems_simulator", "setup_ems"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Start the recorder before the custom integrations are enabled."""
