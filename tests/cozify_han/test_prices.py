"""Price sensors from the reader's price slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.devices.cozify_han.models import (
    parse_compact_data,
)

from .conftest import READER


def _at(instant: str, time_zone: str, slots_today: int, name: str) -> Any:
    """A case with time frozen at `instant` (UTC) before the reader and HA start."""
    return pytest.param(
        instant,
        time_zone,
        slots_today,
        marks=pytest.mark.freeze_time(instant),
        id=name,
    )


# The simulated reader lives in Europe/Helsinki and publishes the next day's prices
# from 14:00 its time. The sensors' "today" is Home Assistant's local day, so the
# number of slots in it tells a 23- or 25-hour (DST) day from an ordinary one.
PRICE_CASES = [
    _at("2026-11-22 10:00:00+00:00", "Europe/Helsinki", 96, "before-tomorrows-prices"),
    _at("2026-11-22 13:30:00+00:00", "Europe/Helsinki", 96, "with-tomorrows-prices"),
    _at("2026-11-22 10:15:00+00:00", "Europe/Helsinki", 96, "on-a-slot-boundary"),
    _at("2026-11-22 21:59:59+00:00", "Europe/Helsinki", 96, "last-second-of-the-day"),
    _at("2027-03-28 10:00:00+00:00", "Europe/Helsinki", 92, "helsinki-23-hour-day"),
    _at(
        "2027-03-28 00:50:00+00:00",
        "Europe/Helsinki",
        92,
        "helsinki-02-50-before-03-00-skips",
    ),
    _at("2026-10-25 10:00:00+00:00", "Europe/Helsinki", 100, "helsinki-25-hour-day"),
    _at("2026-10-25 01:30:00+00:00", "Europe/Helsinki", 100, "helsinki-03-30-repeated"),
    # HA in another zone than the reader: its day spans two reader days.
    _at("2026-11-01 13:00:00+00:00", "US/Pacific", 100, "pacific-25-hour-day"),
    _at("2027-03-14 13:00:00+00:00", "US/Pacific", 92, "pacific-23-hour-day"),
]


@pytest.fixture
async def local_time_zone(hass: HomeAssistant, time_zone: str) -> None:
    """Home Assistant's time zone, set before the entry is."""
    await hass.config.async_set_time_zone(time_zone)


@pytest.mark.parametrize(("instant", "time_zone", "slots_today"), PRICE_CASES)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "local_time_zone")
async def test_price_sensors_follow_the_slots(
    hass: HomeAssistant, setup_han: MockConfigEntry, instant: str, slots_today: int
) -> None:
    """Current, next, and today's lowest/highest/average prices in major units."""
    now = dt_util.utcnow()
    assert now == datetime.fromisoformat(instant)  # the clock is frozen
    state = hass.states.get(f"sensor.{READER}_electricity_price")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "EUR/kWh"
    slots = state.attributes["prices"]
    assert slots
    assert {"start", "end", "price"} <= set(slots[0])
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
    # Slots starting on HA's local date (not "within 24 h": DST days differ).
    today = [
        s["price"]
        for s in slots
        if dt_util.as_local(datetime.fromisoformat(s["start"])).date()
        == dt_util.now().date()
    ]
    assert len(today) == slots_today
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
