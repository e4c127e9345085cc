"""Price sensors from the reader's price slots."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.devices.cozify_han.models import (
    parse_compact_data,
)
from simulators.cozify_han import HanSimulator

from .conftest import READER


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_price_sensors_follow_the_slots(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Current, next, and today's lowest/highest/average prices in major units."""
    state = hass.states.get(f"sensor.{READER}_electricity_price")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "EUR/kWh"
    slots = state.attributes["prices"]
    assert slots
    assert {"start", "end", "price"} <= set(slots[0])
    now = datetime.now(UTC)
    current = next(
        s
        for s in slots
        if datetime.fromisoformat(s["start"]) <= now < datetime.fromisoformat(s["end"])
    )
    assert float(state.state) == pytest.approx(current["price"])
    upcoming = next(s for s in slots if datetime.fromisoformat(s["start"]) > now)
    assert float(hass.states.get(f"sensor.{READER}_next_price").state) == pytest.approx(  # type: ignore[union-attr]
        upcoming["price"]
    )
    day_start = dt_util.start_of_local_day()
    today = [
        s["price"]
        for s in slots
        if 0 <= (datetime.fromisoformat(s["start"]) - day_start).total_seconds() < 86400
    ]
    low = hass.states.get(f"sensor.{READER}_today_s_lowest_price")
    high = hass.states.get(f"sensor.{READER}_today_s_highest_price")
    average = hass.states.get(f"sensor.{READER}_today_s_average_price")
    assert low is not None
    assert high is not None
    assert average is not None
    assert float(low.state) == pytest.approx(min(today))
    assert float(high.state) == pytest.approx(max(today))
    assert float(average.state) == pytest.approx(sum(today) / len(today), abs=1e-6)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_estimated_cost_sensors(
    hass: HomeAssistant, setup_han: MockConfigEntry
) -> None:
    """The reader's estimated costs from /data, in major units of its currency."""
    client = setup_han.runtime_data.coordinator.client
    payload = client.last_payloads["HAN_COMPACT_DATA_MESSAGE"]
    for key, name in (("h", "this_hour"), ("d", "today"), ("m", "this_month")):
        state = hass.states.get(f"sensor.{READER}_estimated_cost_{name}")
        assert state is not None
        assert state.attributes["unit_of_measurement"] == payload["pc"]
        assert state.attributes["device_class"] == "monetary"
        assert float(state.state) == pytest.approx(payload["ep"][key] / 100)


def test_estimated_costs_only_where_present() -> None:
    """Keys that are missing or not numbers give no value."""
    data = parse_compact_data(
        {"type": "HAN_COMPACT_DATA_MESSAGE", "pc": "SEK", "ep": {"d": "12.5", "m": "x"}}
    )
    assert data is not None
    assert data.estimated_cost == {"d": 12.5}
    assert parse_compact_data({"type": "HAN_COMPACT_DATA_MESSAGE"}).estimated_cost == {}  # type: ignore[union-attr]
    assert parse_compact_data({"type": "HAN_METER_MESSAGE"}) is None
