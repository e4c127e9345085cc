"""Adding, reauthenticating and reconfiguring a ZiggyMeter through the UI flow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.devices.ziggymeter.connection import (
    CONF_LOGIN_PATH,
)
from custom_components.energy_gateways.transport.tls import format_fingerprint
from custom_components.energy_gateways.trust import CONF_FINGERPRINT
from simulators.gavazzi_ems import EmsSimulator
from simulators.ziggymeter import ZiggySimulator

from ..conftest import GatewayThread, account_form, start_device_flow
from .conftest import PASSWORD, TITLE, USERNAME, host_of, ziggy_entry_for

IDENTIFIER = "ZM-00C0FFEE"


def _form(
    host: str, *, password: str = PASSWORD, verify: bool = True
) -> dict[str, Any]:
    return account_form(host, USERNAME, password, verify=verify)


async def _start(hass: HomeAssistant) -> str:
    return await start_device_flow(hass, "ziggymeter")


@asynccontextmanager
async def _reader(
    thread: GatewayThread, **options: Any
) -> AsyncGenerator[ZiggySimulator]:
    simulator = ZiggySimulator(username=USERNAME, password=PASSWORD, **options)
    await thread.run(simulator.start(host="127.0.0.1", port=0))
    try:
        yield simulator
    finally:
        await thread.run(simulator.stop())


@pytest.fixture
async def reader(gateway_thread: GatewayThread) -> AsyncGenerator[ZiggySimulator]:
    """A reader on its own event loop (a refused handshake is no test error)."""
    async with _reader(gateway_thread) as simulator:
        yield simulator


@pytest.fixture
async def closed_host(socket_enabled: None) -> str:
    """A loopback address nobody listens on."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    await runner.cleanup()
    return f"127.0.0.1:{port}"


async def _trust(
    hass: HomeAssistant, flow_id: str, simulator: ZiggySimulator, **form: Any
) -> ConfigFlowResult:
    """Submit the form, check the fingerprint shown, and trust it."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(host_of(simulator), **form)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate"
    assert result["description_placeholders"] == {
        "host": simulator.url,
        "fingerprint": format_fingerprint(simulator.certificate_sha256),
    }
    return await hass.config_entries.flow.async_configure(flow_id, {})


@pytest.mark.parametrize(
    ("login_paths", "path"),
    [
        ("both", "/api/v1/system/login"),
        ("api", "/api/v1/system/login"),
        ("legacy", "/login"),
    ],
)
async def test_add_a_reader_trusting_its_certificate(
    hass: HomeAssistant, gateway_thread: GatewayThread, login_paths: str, path: str
) -> None:
    """Either login path works; the one that did is stored with the entry."""
    async with _reader(gateway_thread, login_paths=login_paths) as simulator:
        flow_id = await _start(hass)
        result = await _trust(hass, flow_id, simulator)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == TITLE
        assert result["data"] == {
            CONF_DEVICE_TYPE: "ziggymeter",
            CONF_HOST: simulator.url,
            CONF_USERNAME: USERNAME,
            CONF_PASSWORD: PASSWORD,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: simulator.certificate_sha256,
            CONF_LOGIN_PATH: path,
        }
        # No identifier in the payloads: the trusted certificate names it.
        assert result["result"].unique_id == simulator.certificate_sha256
        # The check logged out: it leaves no session open on the reader.
        assert simulator.logouts == 1


async def test_identifier_in_the_status_is_the_unique_id(
    hass: HomeAssistant, gateway_thread: GatewayThread
) -> None:
    """A reader that reports a serial number is known by it."""
    async with _reader(gateway_thread, identifier=IDENTIFIER) as simulator:
        result = await _trust(hass, await _start(hass), simulator)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == f"{TITLE} {IDENTIFIER}"
        assert result["result"].unique_id == IDENTIFIER.lower()


async def test_without_verification_the_address_is_the_unique_id(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """Verification off: nothing pinned, and the address names the reader."""
    result = await hass.config_entries.flow.async_configure(
        await _start(hass), _form(host_of(reader), verify=False)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FINGERPRINT] is None
    assert result["result"].unique_id == reader.url


async def test_wrong_password_behind_the_certificate_can_be_corrected(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """After trusting the certificate, a refused login shows the account form."""
    flow_id = await _start(hass)
    result = await _trust(hass, flow_id, reader, password="wrong-password")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ziggymeter"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(host_of(reader))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("host", "error"),
    [
        ("https://", {CONF_HOST: "invalid_host"}),
        ("http://", {CONF_HOST: "invalid_host"}),
    ],
)
async def test_unusable_addresses_are_refused(
    hass: HomeAssistant, reader: ZiggySimulator, host: str, error: dict[str, str]
) -> None:
    """No host, or plain HTTP (the reader speaks HTTPS only)."""
    text = host if host == "https://" else f"{host}{host_of(reader)}"
    result = await hass.config_entries.flow.async_configure(
        await _start(hass), _form(text)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error


async def test_unreachable_reader(hass: HomeAssistant, closed_host: str) -> None:
    """A reader that does not answer (asleep on batteries) is reported so."""
    result = await hass.config_entries.flow.async_configure(
        await _start(hass), _form(closed_host)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_another_device_is_not_taken_for_a_reader(
    hass: HomeAssistant, gateway_thread: GatewayThread
) -> None:
    """An HTTPS device without the reader's login paths is refused as such."""
    other = EmsSimulator(username=USERNAME, password=PASSWORD)
    await gateway_thread.run(other.start(host="127.0.0.1", port=0, tls=True))
    try:
        flow_id = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form(f"127.0.0.1:{other.port}")
        )
        assert result["step_id"] == "certificate"
        result = await hass.config_entries.flow.async_configure(flow_id, {})
    finally:
        await gateway_thread.run(other.stop())
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_a_ziggymeter"}


async def test_a_reader_is_added_once(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """The same reader (same certificate) again: already configured."""
    ziggy_entry_for(reader).add_to_hass(hass)
    result = await _trust(hass, await _start(hass), reader)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_a_new_password(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """A changed password: the account form, then the entry is updated."""
    await gateway_run_change_password(reader, "new-password")
    entry = ziggy_entry_for(reader)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm_ziggymeter"
    assert result["description_placeholders"]["host"] == reader.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "new-password"


async def gateway_run_change_password(simulator: ZiggySimulator, password: str) -> None:
    """Change the reader's password (a plain attribute change, any loop)."""
    simulator.change_password(password)


async def test_reauth_after_a_certificate_change_trusts_the_new_one(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """A new certificate is shown next to the old one; the id follows it."""
    old = "00" * 32
    entry = ziggy_entry_for(reader, **{CONF_FINGERPRINT: old})
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, unique_id=old)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "certificate_changed"
    assert result["description_placeholders"]["previous"] == format_fingerprint(old)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_FINGERPRINT] == reader.certificate_sha256
    assert entry.unique_id == reader.certificate_sha256


async def test_reconfigure_to_another_address(
    hass: HomeAssistant, gateway_thread: GatewayThread
) -> None:
    """The same reader (its serial number) at a new address."""
    async with _reader(gateway_thread, identifier=IDENTIFIER) as old:
        entry = ziggy_entry_for(old)
        entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(entry, unique_id=IDENTIFIER.lower())
    async with _reader(gateway_thread, identifier=IDENTIFIER) as new:
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure_ziggymeter"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(new), CONF_VERIFY_SSL: True}
        )
        # Another address, another certificate than the one trusted so far.
        assert result["step_id"] == "certificate_changed"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_HOST] == new.url
        assert entry.data[CONF_FINGERPRINT] == new.certificate_sha256


async def test_reconfigure_refuses_another_reader(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Another serial number at the new address: not this entry's reader."""
    other = ZiggySimulator(username=USERNAME, password=PASSWORD, identifier="ZM-2")
    await other.start(host="127.0.0.1", port=0)
    try:
        entry = ziggy_entry_for(other, **{CONF_HOST: "https://192.0.2.7"})
        entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(entry, unique_id=IDENTIFIER.lower())
        result = await entry.start_reconfigure_flow(hass)
        # Checking off: nothing to confirm, the reader's identifier decides.
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host_of(other), CONF_VERIFY_SSL: False}
        )
    finally:
        await other.stop()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_HOST] == "https://192.0.2.7"


async def test_reconfigure_to_an_address_another_entry_has(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """An address-named reader cannot take the address of another entry."""
    ziggy_entry_for(reader, **{CONF_FINGERPRINT: None}).add_to_hass(hass)
    hass.config_entries.async_update_entry(
        hass.config_entries.async_entries(DOMAIN)[0], unique_id=reader.url
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id="https://192.0.2.1",
        data={
            **ziggy_entry_for(reader).data,
            CONF_HOST: "https://192.0.2.1",
            CONF_FINGERPRINT: None,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(reader), CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
