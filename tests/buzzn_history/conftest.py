"""Fixtures for the BUZZN history import: the recorder and a simulator on frozen time."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from simulators.buzzn import BuzznSimulator

from ..buzzn.conftest import start_simulator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Start the recorder before the custom integrations are enabled."""


@pytest.fixture(params=["document", "reference"])
async def buzzn_simulator(
    freezer: FrozenDateTimeFactory,
    request: pytest.FixtureRequest,
    socket_enabled: None,
) -> AsyncGenerator[BuzznSimulator]:
    """The simulated server in both variants, started on the frozen clock.

    Its history starts 10 days before its start: the frozen time decides which
    days have data, so the clock is frozen before it starts.
    """
    simulator = await start_simulator(variant=request.param)
    yield simulator
    await simulator.stop()
