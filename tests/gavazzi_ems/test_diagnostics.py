"""EMS diagnostics: the gateway, its tree and the polling figures, no identifiers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
import json
import re

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from simulators.gavazzi_ems import EmsFault, EmsSimulator

from .conftest import SERIAL, ems_entry_for, poll

# Longer than the 4 characters below which identifiers are not scrubbed, so a
# leak of either would show in the dump.
ACCOUNT = "installer-api-account"
SECRET = "Gateway-Secret-0815"
MAC = "00:1A:2B:3C:4D:5E"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]*")


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A gateway with two signal codes nobody catalogued."""
    sim = EmsSimulator(
        username=ACCOUNT, password=SECRET, serial=SERIAL, mac=MAC, extra_signals=2
    )
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, simulator: EmsSimulator) -> MockConfigEntry:
    """The entry set up, with one steady-state poll after the first one."""
    config_entry = ems_entry_for(
        simulator, **{CONF_USERNAME: ACCOUNT, CONF_PASSWORD: SECRET}
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await poll(config_entry)
    return config_entry


@pytest.mark.freeze_time("2025-06-21 12:00:00+00:00")
async def test_diagnostics_content(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
    simulator: EmsSimulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Gateway, polling figures, token expiry, tree and latest samples."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    device = diagnostics["device"]
    assert device["gateway"]["firmware"] == simulator.firmware
    assert device["gateway"]["part_number"] == simulator.part_number
    assert device["gateway"]["api_version"] == 1
    polling = device["polling"]
    assert polling["last_requests"] == 1
    assert polling["cycles"] == 2
    assert polling["configuration_reads"] == 1
    assert polling["interval_seconds"] == 10
    assert polling["last_update_success"] is True
    assert polling["logins"] == 1
    client = entry.runtime_data.coordinator.client
    assert polling["requests"] == client.requests
    expires_at = datetime.fromisoformat(device["token"]["expires_at"])
    assert expires_at.tzinfo is not None
    assert expires_at.timestamp() == client.token_expires_at

    assert [item["label"] for item in device["devices"]] == [
        "Main meter",
        "EM1",
        "EM2",
        "P1 meter",
    ]
    assert [item["protocol"] for item in device["loads"]] == [
        "meterBus",
        "rtu",
        "tcp",
        "P1",
    ]
    signals = {signal["uid"]: signal for signal in device["signals"]}
    assert len(signals) == 4 * 22 + 2
    assert all(signal["sample"] is not None for signal in signals.values())
    assert not any(signal["stale"] for signal in signals.values())
    data = entry.runtime_data.coordinator.data
    for uid, sample in data.samples.items():
        assert signals[uid]["sample"]["value"] == sample.value
        assert signals[uid]["sample"]["status"] == 1
    assert device["unknown_signal_codes"] == [900, 901]
    unknown = [signal for signal in signals.values() if signal["si"] >= 900]
    assert [signal["si"] for signal in unknown] == [900, 901]
    assert diagnostics["entry"]["data"][CONF_PASSWORD] == "**REDACTED**"

    # Time is frozen, so dates, samples and the token's expiry (30 min after the
    # login) are the same on any day; only the measured cycle time is not.
    assert diagnostics == snapshot(exclude=props("entry_id", "last_duration_seconds"))


async def test_diagnostics_contain_no_identifiers_or_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
    simulator: EmsSimulator,
) -> None:
    """No password, token, account, serial, MAC or address in any spelling."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics).lower()
    token = entry.runtime_data.coordinator.client._token
    assert token
    mac = MAC.lower()
    for secret in (
        SECRET,
        token,
        ACCOUNT,
        SERIAL,
        mac,
        mac.replace(":", ""),
        mac.replace(":", "-"),
        simulator.url,
        "127.0.0.1",
    ):
        assert secret.lower() not in text, secret
    assert not JWT.search(json.dumps(diagnostics))
    assert diagnostics["device"]["gateway"]["serial_number"] == "**REDACTED**"
    assert diagnostics["device"]["gateway"]["mac"] == "**REDACTED**"


async def test_diagnostics_while_the_gateway_is_unreachable(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
    simulator: EmsSimulator,
) -> None:
    """The last data and the failure are there when the gateway stops answering."""
    simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await poll(entry)  # one failed cycle keeps the last values
    await poll(entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    polling = diagnostics["device"]["polling"]
    assert polling["last_update_success"] is False
    assert polling["cycles"] == 2  # only successful cycles count
    assert len(diagnostics["device"]["signals"]) == 4 * 22 + 2
