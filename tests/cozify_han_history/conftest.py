"""Fixtures for the history import: the recorder, plus the HAN reader fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from ..cozify_han.conftest import han_entry, han_simulator, setup_han

__all__ = ["han_entry", "han_simulator", "setup_han"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Start the recorder before the custom integrations are enabled."""
