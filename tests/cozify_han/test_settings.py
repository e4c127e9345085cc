"""The reader's configuration as select, number and switch entities; the repair issue."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateways.const import DOMAIN
from simulators.cozify_han import HanFault, HanSimulator

from ..conftest import wait_for_state
from .conftest import READER, SERIAL, until

UPDATE_POLICY = f"select.{READER}_update_policy"
NETWORK_POLICY = f"select.{READER}_network_policy"
PRICE_AREA = f"select.{READER}_spot_price_area"
CURRENCY = f"select.{READER}_price_currency"
TIMEZONE = f"select.{READER}_time_zone"
MAIN_FUSE = f"number.{READER}_main_fuse"
FIXED_PRICE = f"number.{READER}_fixed_price"
SPOT_PRICE = f"switch.{READER}_use_spot_price"
CLOUD_REBOOT = f"switch.{READER}_restart_on_cloud_failure"

# entity id -> (unique id suffix, state from the simulator's factory configuration)
SETTINGS = {
    UPDATE_POLICY: ("update_policy", "download"),
    NETWORK_POLICY: ("network_policy", "auto"),
    PRICE_AREA: ("price_area", "FI"),
    CURRENCY: ("currency", "EUR"),
    TIMEZONE: ("timezone", "Europe/Helsinki"),
    MAIN_FUSE: ("main_fuse", "25"),
    FIXED_PRICE: ("fixed_price", "0.0"),
    SPOT_PRICE: ("use_spot_price", "on"),
    CLOUD_REBOOT: ("reboot_on_cloud_failure", "on"),
}


def _issue_id(entry: MockConfigEntry) -> str:
    return f"reboot_required_{entry.entry_id}"


async def _call(hass: HomeAssistant, entity_id: str, service: str, **data: Any) -> None:
    await hass.services.async_call(
        entity_id.split(".")[0],
        service,
        {ATTR_ENTITY_ID: entity_id, **data},
        blocking=True,
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_settings_show_the_reader_configuration(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every setting is a config entity with a stable unique id and the device's value."""
    for entity_id, (key, value) in SETTINGS.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.unique_id == f"{SERIAL}_{key}"
        assert entry.entity_category is EntityCategory.CONFIG
        assert hass.states.get(entity_id).state == value, entity_id  # type: ignore[union-attr]
    assert hass.states.get(UPDATE_POLICY).attributes["options"] == [  # type: ignore[union-attr]
        "automatic",
        "download",
        "manual",
    ]
    timezones = hass.states.get(TIMEZONE).attributes["options"]  # type: ignore[union-attr]
    assert timezones[:2] == ["UTC", "Europe/Helsinki"]  # from /definitions
    assert "SE4" in hass.states.get(PRICE_AREA).attributes["options"]  # type: ignore[union-attr]
    fuse = hass.states.get(MAIN_FUSE)
    assert fuse is not None
    assert fuse.attributes["unit_of_measurement"] == "A"
    assert (fuse.attributes["min"], fuse.attributes["max"]) == (1, 250)
    price = hass.states.get(FIXED_PRICE)
    assert price is not None
    assert price.attributes["unit_of_measurement"] == "EUR/kWh"
    # One main fuse on the device page: the number; no sensor repeats it.
    assert entity_registry.async_get(f"sensor.{READER}_main_fuse") is None


async def test_network_policy_is_disabled_by_default(
    hass: HomeAssistant, setup_han: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A wrong network policy can cut the reader off: opt in to the entity."""
    entry = entity_registry.async_get(NETWORK_POLICY)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(UPDATE_POLICY) is not None


async def test_pushed_configuration_updates_the_settings(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """A HAN_CONFIGURATION_MESSAGE (e.g. from the reader's own UI) is shown."""
    han_simulator.set_configuration(
        {"up": "manual", "pc": "SEK", "p": 125.5, "s": False, "m": {"f": 35}}
    )
    await wait_for_state(hass, UPDATE_POLICY, lambda s: s.state == "manual")
    assert hass.states.get(CURRENCY).state == "SEK"  # type: ignore[union-attr]
    assert hass.states.get(MAIN_FUSE).state == "35"  # type: ignore[union-attr]
    price = hass.states.get(FIXED_PRICE)
    assert price is not None
    assert float(price.state) == 1.255  # öre/kWh shown as SEK/kWh
    assert price.attributes["unit_of_measurement"] == "SEK/kWh"
    assert hass.states.get(SPOT_PRICE).state == "off"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("entity_id", "service", "data", "body", "state"),
    [
        (
            UPDATE_POLICY,
            SERVICE_SELECT_OPTION,
            {ATTR_OPTION: "manual"},
            {"up": "manual"},
            "manual",
        ),
        (PRICE_AREA, SERVICE_SELECT_OPTION, {ATTR_OPTION: "SE3"}, {"pa": "SE3"}, "SE3"),
        (CURRENCY, SERVICE_SELECT_OPTION, {ATTR_OPTION: "NOK"}, {"pc": "NOK"}, "NOK"),
        (
            TIMEZONE,
            SERVICE_SELECT_OPTION,
            {ATTR_OPTION: "Europe/Stockholm"},
            {"t": "Europe/Stockholm"},
            "Europe/Stockholm",
        ),
        (MAIN_FUSE, SERVICE_SET_VALUE, {ATTR_VALUE: 35}, {"m": {"f": 35}}, "35"),
        (FIXED_PRICE, SERVICE_SET_VALUE, {ATTR_VALUE: 0.0849}, {"p": 8.49}, "0.0849"),
        (SPOT_PRICE, SERVICE_TURN_OFF, {}, {"s": False}, "off"),
        (CLOUD_REBOOT, SERVICE_TURN_OFF, {}, {"bhf": False}, "off"),
    ],
)
async def test_write_sends_only_the_changed_key(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    entity_id: str,
    service: str,
    data: dict[str, Any],
    body: dict[str, Any],
    state: str,
) -> None:
    """One partial POST per change; the state is what the reader reports back."""
    await _call(hass, entity_id, service, **data)
    assert han_simulator.configuration_posts == [body]
    assert hass.states.get(entity_id).state == state  # type: ignore[union-attr]
    assert not ir.async_get(hass).async_get_issue(DOMAIN, _issue_id(setup_han))


async def test_switch_turns_back_on(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Turning a switch on writes true."""
    han_simulator.set_configuration({"bhf": False})
    await wait_for_state(hass, CLOUD_REBOOT, lambda s: s.state == "off")
    await _call(hass, CLOUD_REBOOT, SERVICE_TURN_ON)
    assert han_simulator.configuration_posts == [{"bhf": True}]
    assert hass.states.get(CLOUD_REBOOT).state == "on"  # type: ignore[union-attr]


async def test_rejected_write_keeps_the_device_value(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """A write the reader refuses raises a translated error; nothing changes."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=400)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, MAIN_FUSE, SERVICE_SET_VALUE, **{ATTR_VALUE: 63})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "setting_rejected"
    assert err.value.translation_placeholders == {
        "setting": "Main fuse",
        "reason": "unable to process request",
    }
    assert str(err.value) == (
        "The device refused to change Main fuse: unable to process request"
    )
    assert hass.states.get(MAIN_FUSE).state == "25"  # type: ignore[union-attr]
    assert han_simulator.configuration["m"]["f"] == 25


async def test_invalid_value_is_refused_by_the_reader(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """The reader's own reason reaches the user."""
    # A value the reader's UI cannot have set: it shows, but cannot be written.
    han_simulator.set_configuration({"t": "America/New_York"})
    await wait_for_state(hass, TIMEZONE, lambda s: s.state == "America/New_York")
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass, TIMEZONE, SERVICE_SELECT_OPTION, **{ATTR_OPTION: "America/New_York"}
        )
    assert err.value.translation_key == "setting_rejected"
    assert "t must be one of" in err.value.translation_placeholders["reason"]  # type: ignore[index]


async def test_write_to_unreachable_reader(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """A reader that does not answer gives setting_failed."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, SPOT_PRICE, SERVICE_TURN_OFF)
    assert err.value.translation_key == "setting_failed"
    assert hass.states.get(SPOT_PRICE).state == "on"  # type: ignore[union-attr]


async def test_settings_without_definitions(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Without /definitions the seed's lists are offered, plus the current value."""
    coordinator = setup_han.runtime_data.coordinator
    coordinator.data.definitions = None
    han_simulator.set_configuration({"pa": "NO1"})
    await wait_for_state(hass, PRICE_AREA, lambda s: s.state == "NO1")
    options = hass.states.get(PRICE_AREA).attributes["options"]  # type: ignore[union-attr]
    assert options == ["FI", "EE", "SE1", "SE2", "SE3", "SE4", "NO1"]
    assert hass.states.get(TIMEZONE).attributes["options"] == ["Europe/Helsinki"]  # type: ignore[union-attr]
    assert "ISK" in hass.states.get(CURRENCY).attributes["options"]  # type: ignore[union-attr]


async def _fix(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, issue_id: str
) -> tuple[Any, dict[str, Any]]:
    """Start the issue's fix flow through the Repairs API."""
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == HTTPStatus.OK
    return client, await response.json()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_reboot_required_is_a_fixable_issue(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A change answered with rebootRequired raises an issue whose fix restarts."""
    await _call(hass, NETWORK_POLICY, SERVICE_SELECT_OPTION, **{ATTR_OPTION: "eth"})
    assert han_simulator.configuration_posts == [{"np": "eth"}]
    assert hass.states.get(NETWORK_POLICY).state == "eth"  # type: ignore[union-attr]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, _issue_id(setup_han))
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "reboot_required"
    assert issue.translation_placeholders == {"name": setup_han.title}

    client, flow = await _fix(hass, hass_client, issue.issue_id)
    assert flow["type"] == "form"
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {"name": setup_han.title}

    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    flow = await response.json()
    assert flow["type"] == "form"
    assert flow["errors"] == {"base": "cannot_connect"}
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id)

    han_simulator.clear_faults()
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    flow = await response.json()
    assert flow["type"] == "create_entry"
    assert han_simulator.requests["/reboot"] == 2
    assert han_simulator.rebooting
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_fix_needs_the_entry_loaded(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """An unloaded entry cannot restart its reader: the fix aborts, the issue stays.

    Removing the entry removes its issue.
    """
    await _call(hass, NETWORK_POLICY, SERVICE_SELECT_OPTION, **{ATTR_OPTION: "sta"})
    assert await hass.config_entries.async_unload(setup_han.entry_id)
    _, flow = await _fix(hass, hass_client, _issue_id(setup_han))
    assert flow["type"] == "abort"
    assert flow["reason"] == "not_loaded"
    assert ir.async_get(hass).async_get_issue(DOMAIN, _issue_id(setup_han))
    assert han_simulator.requests["/reboot"] == 0

    await hass.config_entries.async_remove(setup_han.entry_id)
    assert not ir.async_get(hass).async_get_issue(DOMAIN, _issue_id(setup_han))


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_issue_goes_when_the_reader_restarts_by_itself(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A restart from elsewhere (power cut, the reader's UI) settles the issue."""
    coordinator = setup_han.runtime_data.coordinator
    stats = coordinator.stats
    await _call(hass, NETWORK_POLICY, SERVICE_SELECT_OPTION, **{ATTR_OPTION: "eth"})
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, _issue_id(setup_han))

    async def reconnected() -> None:
        # /definitions is read last on a reconnect; the check follows at once.
        definitions = coordinator.data.definitions
        await until(lambda: stats.state == "backoff")
        if han_simulator.rebooting:
            han_simulator.finish_reboot()
        await _advance(hass, freezer, 2)
        await until(lambda: coordinator.data.definitions is not definitions)

    # A reconnect without a restart keeps the issue.
    freezer.tick(timedelta(seconds=5))
    han_simulator.drop_streams()
    await reconnected()
    assert registry.async_get_issue(DOMAIN, _issue_id(setup_han))

    han_simulator.reboot(None)
    await reconnected()
    assert stats.reconnects == 2
    assert not registry.async_get_issue(DOMAIN, _issue_id(setup_han))


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
