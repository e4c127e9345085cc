"""A Cozify Hub entry through Home Assistant: devices, entities, deltas, routes, tokens."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.const import (
    CONF_CLOUD_TOKEN,
    CONF_HUB_KEY,
    CONF_TOKEN_RENEWED,
)
from simulators.cozify_hub import CozifyFault, CozifySimulator

from ..conftest import set_up_entry
from .conftest import cozify_entry_for, poll

LOGGER_NAME = "custom_components.energy_gateways"


def entity_id(
    hass: HomeAssistant, platform: Platform, hub_id: str, device_id: str, key: str
) -> str | None:
    """The entity id of one of a device's entities, if it has that entity."""
    return er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{hub_id}_{device_id}_{key}"
    )


def state_of(
    hass: HomeAssistant, platform: Platform, hub_id: str, device_id: str, key: str
) -> State:
    """The state of one of a device's entities (fails the test if it has none)."""
    found = entity_id(hass, platform, hub_id, device_id, key)
    assert found is not None, f"{device_id} has no {key}"
    state = hass.states.get(found)
    assert state is not None
    return state


def devices_with(
    simulator: CozifySimulator, test: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The home hub's device records that pass `test`."""
    return [record for record in simulator.hub.devices.values() if test(record)]


def capabilities(record: dict[str, Any]) -> set[str]:
    """A record's capability names."""
    return set(record["capabilities"]["values"])


def first_with(simulator: CozifySimulator, capability: str) -> dict[str, Any]:
    """The first reachable non-light device with a capability."""
    return next(
        record
        for record in devices_with(
            simulator,
            lambda r: (
                capability in capabilities(r)
                and r["state"]["type"] != "STATE_LIGHT"
                and r["state"].get("reachable") is not False
            ),
        )
    )


async def test_hub_and_devices_are_registered_in_their_rooms(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """One hub device; every Cozify device linked to it, in its room's area."""
    devices = dr.async_get(hass)
    areas = ar.async_get(hass)
    hub = cozify.hub
    hub_device = devices.async_get_device_by_identifier(
        (DOMAIN, hub.hub_id), hub_entry.entry_id
    )
    assert hub_device is not None
    assert hub_device.sw_version == hub.version
    assert hub_device.model == "Cozify Hub"
    assert hub_device.configuration_url == f"{hub.url}/apidoc"
    for device_id, record in hub.devices.items():
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"{hub.hub_id}_{device_id}"), hub_entry.entry_id
        )
        assert device is not None, record["name"]
        assert device.name == record["name"]
        assert device.via_device_id == hub_device.id
        if record.get("manufacturer"):
            assert device.manufacturer == record["manufacturer"]
        rooms = record.get("room") or []
        if rooms:
            area = areas.async_get_area(device.area_id or "")
            assert area is not None
            assert area.name == hub.rooms[rooms[0]]["name"]


@pytest.mark.parametrize("hub_index", [0, 1])
async def test_no_light_ever_gets_a_temperature_sensor(
    hass: HomeAssistant, cozify: CozifySimulator, hub_index: int
) -> None:
    """Kelvin is not °C: every light fixture of both hubs, no temperature sensor."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify, hub=hub_index))
    hub = cozify.hubs[hub_index]
    lights = [r for r in hub.devices.values() if r["state"]["type"] == "STATE_LIGHT"]
    assert lights
    for light in lights:
        for platform in (Platform.SENSOR, Platform.BINARY_SENSOR):
            assert (
                entity_id(hass, platform, hub.hub_id, light["id"], "temperature")
                is None
            ), light["name"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_sensors_carry_values_and_units(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Each capability becomes its sensor, in the unit the notes give."""
    hub_id = cozify.hub.hub_id
    expected = {
        ("TEMPERATURE", "temperature", "temperature", "°C"),
        ("HUMIDITY", "humidity", "humidity", "%"),
        ("LUX", "illuminance", "lux", "lx"),
        ("CO2", "co2", "co2Ppm", "ppm"),
        ("BATTERY_U", "battery_voltage", "batteryV", "V"),
    }
    for capability, key, field, unit in expected:
        record = first_with(cozify, capability)
        state = state_of(hass, Platform.SENSOR, hub_id, record["id"], key)
        assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == unit
        assert float(state.state) == pytest.approx(record["state"][field], abs=0.01)
    socket = next(
        r for r in devices_with(cozify, lambda r: "activePower" in r["state"])
    )
    power = state_of(hass, Platform.SENSOR, hub_id, socket["id"], "power")
    assert power.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
    assert float(power.state) == pytest.approx(socket["state"]["activePower"])


async def test_binary_sensors_follow_the_hub(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Motion, contact, smoke, moisture, CO, daylight (twilight inverted)."""
    hub = cozify.hub
    checks = (
        ("MOTION", "motion", "motion"),
        ("CONTACT", "contact", "open"),
        ("SMOKE", "smoke", "alert"),
        ("MOISTURE", "moisture", "moisture"),
        ("CO", "carbon_monoxide", "coDetected"),
    )
    for capability, key, field in checks:
        record = first_with(cozify, capability)
        for value in (True, False):
            hub.change(record["id"], **{field: value})
            await poll(hub_entry)
            state = state_of(
                hass, Platform.BINARY_SENSOR, hub.hub_id, record["id"], key
            )
            assert state.state == (STATE_ON if value else STATE_OFF), key
    twilight = first_with(cozify, "TWILIGHT")
    hub.change(twilight["id"], twilight=True)
    await poll(hub_entry)
    daylight = state_of(
        hass, Platform.BINARY_SENSOR, hub.hub_id, twilight["id"], "daylight"
    )
    assert daylight.state == STATE_OFF  # twilight: true means it is dark


async def test_a_delta_writes_only_the_changed_entity(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A changed temperature is shown after one poll; other entities stay quiet."""
    hub = cozify.hub
    record = first_with(cozify, "HUMIDITY")
    written: list[str] = []

    def note(event: Event[EventStateChangedData]) -> None:
        written.append(event.data["entity_id"])

    unsubscribe = hass.bus.async_listen("state_changed", note)
    await poll(hub_entry)
    await hass.async_block_till_done()
    assert written == []
    new = round(record["state"]["temperature"] + 1.3, 1)
    hub.change(record["id"], temperature=new)
    await poll(hub_entry)
    await hass.async_block_till_done()
    unsubscribe()
    temperature = entity_id(
        hass, Platform.SENSOR, hub.hub_id, record["id"], "temperature"
    )
    last_seen = entity_id(hass, Platform.SENSOR, hub.hub_id, record["id"], "last_seen")
    assert sorted(written) == sorted([temperature, last_seen])
    assert (
        float(
            state_of(
                hass, Platform.SENSOR, hub.hub_id, record["id"], "temperature"
            ).state
        )
        == new
    )


async def test_devices_come_and_go_without_a_reload(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A new device gets its entities at the next poll; a deleted one is removed."""
    hub = cozify.hub
    runtime = hub_entry.runtime_data
    template = first_with(cozify, "HUMIDITY")
    record = {**template, "id": "added-sensor-1", "name": "Uusi anturi"}
    record["state"] = dict(template["state"])
    hub.add_device(record)
    await poll(hub_entry)
    await hass.async_block_till_done()
    state = state_of(hass, Platform.SENSOR, hub.hub_id, "added-sensor-1", "humidity")
    assert state.state != STATE_UNAVAILABLE
    devices = dr.async_get(hass)
    identifier = (DOMAIN, f"{hub.hub_id}_added-sensor-1")
    assert (
        devices.async_get_device_by_identifier(identifier, hub_entry.entry_id)
        is not None
    )
    hub.remove_device("added-sensor-1")
    await poll(hub_entry)
    await hass.async_block_till_done()
    assert (
        devices.async_get_device_by_identifier(identifier, hub_entry.entry_id) is None
    )
    assert (
        entity_id(hass, Platform.SENSOR, hub.hub_id, "added-sensor-1", "humidity")
        is None
    )
    assert hub_entry.runtime_data is runtime


async def test_a_device_deleted_while_home_assistant_was_away_goes_at_start(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Deleted on the hub while the entry was unloaded: removed when it loads."""
    hub = cozify.hub
    record = first_with(cozify, "HUMIDITY")
    identifier = (DOMAIN, f"{hub.hub_id}_{record['id']}")
    devices = dr.async_get(hass)
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    hub.remove_device(record["id"])
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert (
        devices.async_get_device_by_identifier(identifier, hub_entry.entry_id) is None
    )
    hub_device = (DOMAIN, hub.hub_id)
    assert devices.async_get_device_by_identifier(hub_device, hub_entry.entry_id)


async def test_a_device_renamed_in_the_cozify_app_is_renamed_in_ha(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The hub's name for a device reaches the HA device; the user's own name wins."""
    hub = cozify.hub
    record = first_with(cozify, "HUMIDITY")
    identifier = (DOMAIN, f"{hub.hub_id}_{record['id']}")
    devices = dr.async_get(hass)
    device = devices.async_get_device_by_identifier(identifier, hub_entry.entry_id)
    assert device is not None
    record["name"] = "Saunan anturi"
    hub.change(record["id"])
    await poll(hub_entry)
    device = devices.async_get_device_by_identifier(identifier, hub_entry.entry_id)
    assert device is not None
    assert device.name == "Saunan anturi"
    devices.async_update_device(device.id, name_by_user="Sauna")
    record["name"] = "Löylyhuone"
    hub.change(record["id"])
    await poll(hub_entry)
    device = devices.async_get_device_by_identifier(identifier, hub_entry.entry_id)
    assert device is not None
    assert (device.name, device.name_by_user) == ("Löylyhuone", "Sauna")


async def test_an_unreachable_device_goes_unavailable(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """`reachable: false` makes the device's readings unavailable; connectivity says off."""
    hub = cozify.hub
    record = first_with(cozify, "HUMIDITY")
    hub.set_reachable(record["id"], False)
    await poll(hub_entry)
    humidity = state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity")
    reachable = state_of(
        hass, Platform.BINARY_SENSOR, hub.hub_id, record["id"], "reachable"
    )
    assert humidity.state == STATE_UNAVAILABLE
    assert reachable.state == STATE_OFF
    hub.set_reachable(record["id"], True)
    await poll(hub_entry)
    assert (
        state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity").state
        != STATE_UNAVAILABLE
    )


async def test_lan_outage_uses_the_relay_with_no_unavailable_gap(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    cozify: CozifySimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """LAN gone: relay at once, one log line; LAN back: local again, one line."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify))
    hub = cozify.hub
    coordinator = entry.runtime_data.coordinator
    record = first_with(cozify, "HUMIDITY")
    route = er.async_get(hass).async_get_entity_id(
        Platform.SENSOR, DOMAIN, f"{hub.hub_id}_route"
    )
    assert route is not None
    unavailable: list[str] = []

    def note(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state == STATE_UNAVAILABLE:
            unavailable.append(event.data["entity_id"])

    unsubscribe = hass.bus.async_listen("state_changed", note)
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    await hub.go_offline()
    hub.change(record["id"], humidity=61.0)
    await poll(entry)
    assert hass.states.get(route).state == "remote"  # type: ignore[union-attr]
    assert coordinator.update_interval.total_seconds() == 15  # type: ignore[union-attr]
    assert (
        state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity").state
        == "61.0"
    )
    for _ in range(3):
        await poll(entry)
    await hub.come_back()
    freezer.tick(61)
    hub.change(record["id"], humidity=62.0)
    await poll(entry)
    await hass.async_block_till_done()
    unsubscribe()
    assert hass.states.get(route).state == "local"  # type: ignore[union-attr]
    assert coordinator.update_interval.total_seconds() == 2  # type: ignore[union-attr]
    assert (
        state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity").state
        == "62.0"
    )
    assert unavailable == []
    lines = [
        r
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith(LOGGER_NAME)
    ]
    assert len(lines) == 2, [r.getMessage() for r in lines]


async def test_a_hub_update_moving_the_api_version_needs_no_reload(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """410 on the old version: the client re-reads /hub; the hub device shows it."""
    hub = cozify.hub
    runtime = hub_entry.runtime_data
    record = first_with(cozify, "HUMIDITY")
    hub.update_software("1.15.0.3")
    hub.change(record["id"], humidity=55.0)
    await poll(hub_entry)
    await hass.async_block_till_done()
    assert hub_entry.state is ConfigEntryState.LOADED
    assert hub_entry.runtime_data is runtime
    assert (
        state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity").state
        == "55.0"
    )
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, hub.hub_id), hub_entry.entry_id
    )
    assert device is not None
    assert device.sw_version == "1.15.0.3"
    assert not ir.async_get(hass).issues


async def test_an_api_the_hub_keeps_refusing_is_a_repair_issue(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """410 even after /hub was read again: unavailable, one issue; gone when fixed."""
    cozify.set_fault(CozifyFault.HTTP_ERROR, status=410, path="/cc")
    await poll(hub_entry)
    await poll(hub_entry)
    record = first_with(cozify, "HUMIDITY")
    state = state_of(hass, Platform.SENSOR, cozify.hub.hub_id, record["id"], "humidity")
    assert state.state == STATE_UNAVAILABLE
    issues = ir.async_get(hass)
    issue_id = f"api_version_{hub_entry.entry_id}"
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    cozify.clear_faults()
    await poll(hub_entry)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert hub_entry.state is ConfigEntryState.LOADED


async def test_a_cloud_outage_at_renewal_time_leaves_the_local_hub_alone(
    freezer: FrozenDateTimeFactory, hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The daily renewal fails quietly while the cloud is down; retried later."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify))
    token = entry.data[CONF_CLOUD_TOKEN]
    freezer.tick(86401)
    cozify.set_fault(CozifyFault.CLOUD_DOWN)
    await poll(entry)
    await poll(entry)
    assert entry.runtime_data.coordinator.last_update_success
    assert entry.data[CONF_CLOUD_TOKEN] == token
    cozify.clear_faults()
    await poll(entry)
    assert entry.data[CONF_CLOUD_TOKEN] == token  # not asked again at once
    freezer.tick(601)
    await poll(entry)
    assert entry.data[CONF_CLOUD_TOKEN] != token


async def test_hub_key_expiry_is_renewed_and_saved(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """An expired hub key: a new one from the cloud, the poll goes on, the entry keeps it."""
    old = hub_entry.data[CONF_HUB_KEY]
    cozify.hub.expire_keys_now()
    await poll(hub_entry)
    assert hub_entry.runtime_data.coordinator.last_update_success
    assert hub_entry.data[CONF_HUB_KEY] != old


async def test_cloud_token_is_renewed_daily(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    cozify: CozifySimulator,
) -> None:
    """After a day the cloud token is renewed once and saved in the entry."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify))
    old_token = entry.data[CONF_CLOUD_TOKEN]
    old_time = entry.data[CONF_TOKEN_RENEWED]
    await poll(entry)
    assert entry.data[CONF_CLOUD_TOKEN] == old_token
    freezer.tick(86401)
    await poll(entry)
    assert entry.data[CONF_CLOUD_TOKEN] != old_token
    assert entry.data[CONF_TOKEN_RENEWED] > old_time
    assert cozify.cloud.requests["GET /user/refreshsession"] == 1


async def test_a_dead_cloud_token_starts_reauth(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Hub key and cloud token both refused: the user is asked for a new code."""
    cozify.expire_cloud_tokens_now()
    cozify.hub.expire_keys_now()
    await poll(hub_entry)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_a_revoked_cloud_token_at_renewal_starts_reauth(
    freezer: FrozenDateTimeFactory, hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The daily renewal refused (the account's sessions ended): a new code is asked."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify))
    cozify.expire_cloud_tokens_now()
    freezer.tick(86401)
    await poll(entry)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_contacts_are_doors_or_windows_by_their_names(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """ "Ulko-ovi" is a door, "Keittiön ikkuna" a window, anything else an opening."""
    hub = cozify.hub
    door = first_with(cozify, "CONTACT")
    for device_id, name in (
        ("window-1", "Keittiön ikkuna"),
        ("box-1", "Postilaatikko"),
    ):
        hub.add_device(
            {**door, "id": device_id, "name": name, "state": dict(door["state"])}
        )
    await poll(hub_entry)
    await hass.async_block_till_done()
    classes = {
        device_id: state_of(
            hass, Platform.BINARY_SENSOR, hub.hub_id, device_id, "contact"
        ).attributes[ATTR_DEVICE_CLASS]
        for device_id in (door["id"], "window-1", "box-1")
    }
    assert classes == {door["id"]: "door", "window-1": "window", "box-1": "opening"}


async def test_cloud_mode_reads_through_the_relay(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Relay only: the hub's LAN listener is never asked for its devices."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify, cloud=True))
    hub = cozify.hub
    record = first_with(cozify, "HUMIDITY")
    hub.change(record["id"], humidity=48.0)
    await poll(entry)
    assert (
        state_of(hass, Platform.SENSOR, hub.hub_id, record["id"], "humidity").state
        == "48.0"
    )
    assert sum(n for k, n in cozify.cloud.requests.items() if "/hub/remote/" in k) > 0
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 15  # type: ignore[union-attr]
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, hub.hub_id), entry.entry_id
    )
    assert device is not None
    assert device.configuration_url is None


async def test_relay_refused_is_a_repair_issue_until_it_works(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """403 from the relay (remote access not paid): unavailable, an issue; then fine."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify, cloud=True))
    record = first_with(cozify, "HUMIDITY")
    cozify.set_fault(CozifyFault.RELAY_REFUSED)
    await poll(entry)
    await poll(entry)
    state = state_of(hass, Platform.SENSOR, cozify.hub.hub_id, record["id"], "humidity")
    assert state.state == STATE_UNAVAILABLE
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, f"relay_refused_{entry.entry_id}") is not None
    cozify.clear_faults()
    await poll(entry)
    assert issues.async_get_issue(DOMAIN, f"relay_refused_{entry.entry_id}") is None
    assert entry.state is ConfigEntryState.LOADED


async def test_setup_is_retried_while_nothing_answers(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Hub and cloud both away at start: set-up retried, no traceback."""
    entry = await cozify_entry_for(cozify)
    await cozify.hub.go_offline()
    await cozify.cloud.go_offline()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_user_may_remove_only_devices_the_hub_dropped(
    hass: HomeAssistant,
    cozify: CozifySimulator,
    hub_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Reported devices stay; a leftover device can be deleted."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    devices = dr.async_get(hass)
    hub_id = cozify.hub.hub_id
    reported = devices.async_get_device_by_identifier(
        (DOMAIN, f"{hub_id}_{first_with(cozify, 'HUMIDITY')['id']}"), hub_entry.entry_id
    )
    leftover = devices.async_get_or_create(
        config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, f"{hub_id}_gone")}
    )
    assert reported is not None
    for device, allowed in ((reported, False), (leftover, True)):
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": hub_entry.entry_id,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        assert response["success"] is allowed


async def test_diagnostics_keep_ids_and_hide_names_and_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cozify: CozifySimulator,
    hub_entry: MockConfigEntry,
) -> None:
    """Ids and capabilities for support; names, rooms, e-mail and tokens not."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub_entry)
    device = diagnostics["device"]
    ids = {d["id"] for d in device["devices"]}
    assert ids == set(cozify.hub.devices)
    assert {d["name"] for d in device["devices"]} == {"**REDACTED**"}
    assert device["connection"]["route"] == "local"
    assert device["tokens"]["cloud_token_expires_at"] is not None
    assert "ALARM_DELTA" in device["unknown_delta_types"]
    assert device["unknown_capabilities"] == ["ENERGY_SAVING_MODE"]
    assert {scene["id"] for scene in device["scenes"]} == set(cozify.hub.scenes)
    text = str(diagnostics)
    for record in cozify.hub.devices.values():
        assert record["name"] not in text
    assert hub_entry.data[CONF_CLOUD_TOKEN] not in text
    assert hub_entry.data[CONF_HUB_KEY] not in text
