"""Every path of the EMS gateway's config, reauth, reconfigure and options flows."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
import textwrap
from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_SCAN_INTERVAL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import (
    CONF_DEVICE_TYPE,
    CONF_IMPORT_HISTORY,
    DOMAIN,
)
from custom_components.energy_gateways.devices.gavazzi_ems.client import EmsClient
from custom_components.energy_gateways.transport.errors import CannotConnect
from custom_components.energy_gateways.transport.http import base_url
from custom_components.energy_gateways.trust import CONF_FINGERPRINT
from simulators.gavazzi_ems import EmsFault, EmsSimulator

from ..conftest import GatewayThread, account_form, start_device_flow
from .conftest import PASSWORD, SERIAL, TITLE, USERNAME, ems_entry_for

FLOW = "custom_components.energy_gateways.trust"
OTHER_SERIAL = "BX20000000"
OLD_FINGERPRINT = "00" * 32


def _colons(sha256_hex: str) -> str:
    """A fingerprint as browsers show it: AB:CD:…"""
    return ":".join(textwrap.wrap(sha256_hex.upper(), 2))


def _form(
    host: str, *, password: str = PASSWORD, verify: bool = True
) -> dict[str, Any]:
    return account_form(host, USERNAME, password, verify=verify)


async def _start_ems_form(hass: HomeAssistant) -> str:
    return await start_device_flow(hass, "gavazzi_ems")


@pytest.fixture
async def tls_simulator(
    socket_enabled: None, gateway_thread: GatewayThread
) -> AsyncGenerator[EmsSimulator]:
    """A simulated gateway over HTTPS with a fresh self-signed certificate."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD, serial=SERIAL)
    await gateway_thread.run(simulator.start(host="127.0.0.1", port=0, tls=True))
    try:
        yield simulator
    finally:
        await gateway_thread.run(simulator.stop())


@pytest.fixture
async def other_simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """Another gateway (another serial number) with the same account."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD, serial=OTHER_SERIAL)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def closed_url(socket_enabled: None) -> str:
    """A loopback URL nobody listens on."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    await runner.cleanup()
    return f"http://127.0.0.1:{port}"


# -- base_url -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.168.1.20", "https://192.168.1.20"),
        (" 192.168.1.20:8443 ", "https://192.168.1.20:8443"),
        ("http://EMS.local:8080/index.html", "http://ems.local:8080"),
        ("https://[fe80::1]:443/", "https://[fe80::1]:443"),
        ("http://", None),
        ("ftp://ems.local", None),
        ("[::1", None),
        ("ems.local:99999", None),
        ("", None),
    ],
)
def test_base_url(raw: str, expected: str | None) -> None:
    """What people type becomes a base URL; no host or a bad URL gives None."""
    assert base_url(raw) == expected


# -- user -----------------------------------------------------------------------


async def test_user_flow_creates_entry(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """A gateway over plain HTTP becomes an entry named after its serial number."""
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(f" {ems_simulator.url}/index.html ")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLE
    assert result["data"] == {
        CONF_DEVICE_TYPE: "gavazzi_ems",
        CONF_HOST: ems_simulator.url,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_VERIFY_SSL: True,
        CONF_FINGERPRINT: None,
    }
    assert result["result"].unique_id == SERIAL
    assert ems_simulator.requests["/ver"] >= 1
    assert ems_simulator.requests["/v1/serial-number"] >= 1
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_user_flow_trusts_self_signed_certificate(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """An address without scheme is HTTPS; its certificate is shown, then pinned."""
    assert tls_simulator.certificate_sha256 is not None
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(f"127.0.0.1:{tls_simulator.port}")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "host": tls_simulator.url,
        "fingerprint": _colons(tls_simulator.certificate_sha256),
    }
    # Nothing was logged in to over the untrusted connection.
    assert tls_simulator.tokens_issued == 0

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLE
    assert result["result"].unique_id == SERIAL
    assert result["data"] == {
        CONF_DEVICE_TYPE: "gavazzi_ems",
        CONF_HOST: tls_simulator.url,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_VERIFY_SSL: True,
        CONF_FINGERPRINT: tls_simulator.certificate_sha256,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_user_flow_without_verification_skips_certificate(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """With verification off the certificate is not shown and not pinned."""
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(tls_simulator.url, verify=False)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"][CONF_HOST] == tls_simulator.url
    assert result["data"][CONF_VERIFY_SSL] is False
    assert result["data"][CONF_FINGERPRINT] is None
    await hass.async_block_till_done()


async def test_user_flow_invalid_host_then_recovers(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """Text without a readable host is refused before anything is contacted."""
    flow_id = await _start_ems_form(hass)
    for host in ("http://", "ftp://ems.local", "[::1", "127.0.0.1:99999"):
        result = await hass.config_entries.flow.async_configure(flow_id, _form(host))
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "gavazzi_ems"
        assert result["errors"] == {CONF_HOST: "invalid_host"}, host
    assert sum(ems_simulator.requests.values()) == 0

    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(ems_simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    await hass.async_block_till_done()


async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant, ems_simulator: EmsSimulator, closed_url: str
) -> None:
    """Each error shows on the form, and the same form still works afterwards."""
    flow_id = await _start_ems_form(hass)

    result = await hass.config_entries.flow.async_configure(flow_id, _form(closed_url))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems"
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(ems_simulator.url, password="wrong")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems"
    assert result["errors"] == {"base": "invalid_auth"}

    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=404, path="/ver")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(ems_simulator.url)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems"
    assert result["errors"] == {"base": "not_an_ems"}
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)

    with patch.object(
        EmsClient, "get_serial_number", side_effect=RuntimeError("boom")
    ) as get_serial_number:
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form(ems_simulator.url)
        )
    get_serial_number.assert_awaited_once()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems"
    assert result["errors"] == {"base": "unknown"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(ems_simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"][CONF_PASSWORD] == PASSWORD
    await hass.async_block_till_done()


async def test_certificate_fetch_failure_shows_cannot_connect(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A certificate that cannot be read is reported like an unreachable gateway."""
    flow_id = await _start_ems_form(hass)
    with patch(
        f"{FLOW}.async_certificate_sha256", side_effect=CannotConnect("gone")
    ) as fetch:
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form(tls_simulator.url)
        )
    fetch.assert_awaited_once_with(tls_simulator.url)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems"
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(tls_simulator.url)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate"
    assert result["errors"] == {}


async def test_certificate_step_error_then_recovers(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A failure after trusting the certificate shows on its step; retrying works."""
    assert tls_simulator.certificate_sha256 is not None
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(tls_simulator.url)
    )
    assert result["step_id"] == "certificate"

    tls_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"] == {
        "host": tls_simulator.url,
        "fingerprint": _colons(tls_simulator.certificate_sha256),
    }

    tls_simulator.clear_fault(EmsFault.HTTP_ERROR)
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()


async def test_certificate_replaced_before_confirming(
    hass: HomeAssistant, tls_simulator: EmsSimulator, gateway_thread: GatewayThread
) -> None:
    """A certificate that changes while shown is shown again, the old one as previous."""
    first = tls_simulator.certificate_sha256
    assert first is not None
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(tls_simulator.url)
    )
    assert result["step_id"] == "certificate"

    port = tls_simulator.port
    await gateway_thread.run(tls_simulator.stop())
    await gateway_thread.run(tls_simulator.start(host="127.0.0.1", port=port, tls=True))
    second = tls_simulator.certificate_sha256
    assert second is not None
    assert second != first

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate_changed"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "host": tls_simulator.url,
        "fingerprint": _colons(second),
        "previous": _colons(first),
    }

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FINGERPRINT] == second
    await hass.async_block_till_done()


async def test_user_flow_duplicate_aborts(
    hass: HomeAssistant, ems_simulator: EmsSimulator, ems_entry: MockConfigEntry
) -> None:
    """The same gateway twice is refused."""
    ems_entry.add_to_hass(hass)
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(f"{ems_simulator.url}/")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert ems_entry.data[CONF_HOST] == ems_simulator.url


# -- reauth ---------------------------------------------------------------------


async def test_reauth_asks_for_account_again(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """A refused password asks for the account; the right one updates the entry."""
    entry = ems_entry_for(ems_simulator, **{CONF_PASSWORD: "old-password"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm_gavazzi_ems"
    assert result["description_placeholders"] == {
        "name": TITLE,
        "host": ems_simulator.url,
    }
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm_gavazzi_ems"
    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data[CONF_PASSWORD] == "old-password"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == PASSWORD
    assert entry.data[CONF_HOST] == ems_simulator.url
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_of_failed_setup(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """A refused password at setup starts the reauth flow, which recovers the entry."""
    entry = ems_entry_for(ems_simulator, **{CONF_PASSWORD: "old-password"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress()
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == entry.entry_id
    assert flow["step_id"] == "reauth_confirm_gavazzi_ems"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    reloaded = hass.config_entries.async_get_known_entry(entry.entry_id)
    assert reloaded.state is ConfigEntryState.LOADED


async def test_reauth_succeeds_when_stored_settings_work(
    hass: HomeAssistant, ems_simulator: EmsSimulator, ems_entry: MockConfigEntry
) -> None:
    """If the gateway accepts the stored settings again, nothing is asked."""
    ems_entry.add_to_hass(hass)
    data = dict(ems_entry.data)
    result = await ems_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert dict(ems_entry.data) == data
    await hass.async_block_till_done()
    assert ems_entry.state is ConfigEntryState.LOADED


async def test_reauth_unreachable_gateway_asks_for_account(
    hass: HomeAssistant, ems_simulator: EmsSimulator, closed_url: str
) -> None:
    """An unreachable gateway leads to the account form, which reports it."""
    entry = ems_entry_for(ems_simulator, **{CONF_HOST: closed_url})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm_gavazzi_ems"
    assert result["description_placeholders"] == {"name": TITLE, "host": closed_url}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm_gavazzi_ems"
    assert result["errors"] == {"base": "cannot_connect"}


async def test_reauth_refuses_another_gateway(
    hass: HomeAssistant, ems_simulator: EmsSimulator, other_simulator: EmsSimulator
) -> None:
    """Another gateway at the stored address is not adopted by reauth."""
    entry = ems_entry_for(ems_simulator, **{CONF_HOST: other_simulator.url})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.unique_id == SERIAL
    assert entry.data[CONF_HOST] == other_simulator.url


async def test_reauth_confirm_refuses_another_gateway(
    hass: HomeAssistant, ems_simulator: EmsSimulator, other_simulator: EmsSimulator
) -> None:
    """The account form does not adopt another gateway either."""
    entry = ems_entry_for(
        ems_simulator, **{CONF_HOST: other_simulator.url, CONF_PASSWORD: "old"}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm_gavazzi_ems"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_PASSWORD] == "old"


async def test_reauth_shows_changed_certificate(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A certificate other than the trusted one is shown next to the old one."""
    assert tls_simulator.certificate_sha256 is not None
    entry = ems_entry_for(tls_simulator, **{CONF_FINGERPRINT: OLD_FINGERPRINT})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate_changed"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "name": TITLE,
        "host": tls_simulator.url,
        "fingerprint": _colons(tls_simulator.certificate_sha256),
        "previous": _colons(OLD_FINGERPRINT),
    }
    assert tls_simulator.tokens_issued == 0

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


DEAD_END = (
    "Bug: an error found only after the certificate is trusted (invalid_auth) is "
    "shown on the certificate step, which has no username/password fields; "
    "confirming again repeats it (config_flow.py, "
    "trust.py: async_step_certificate / _async_trusted_submit)"
)


def _fields(result: ConfigFlowResult) -> set[str]:
    """The names of the fields a form asks for."""
    schema = result["data_schema"]
    assert schema is not None
    return {str(key) for key in schema.schema}


async def _fill_and_submit(
    hass: HomeAssistant, result: ConfigFlowResult, values: dict[str, Any]
) -> ConfigFlowResult:
    """Submit the fields the form asks for (a certificate step has none)."""
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {key: values[key] for key in _fields(result)}
    )


async def test_user_flow_wrong_password_behind_certificate_can_be_corrected(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A mistyped password on a self-signed gateway can be fixed after trusting it.

    The certificate is checked first (`/ver` fails before any login), so the
    password is only tried once the certificate is trusted.
    """
    flow_id = await _start_ems_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(tls_simulator.url, password="typo")
    )
    assert result["step_id"] == "certificate"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert CONF_PASSWORD in _fields(result)

    values = _form(tls_simulator.url)
    for _ in range(2):
        result = await _fill_and_submit(hass, result, values)
        if result["type"] is not FlowResultType.FORM:
            break
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PASSWORD] == PASSWORD
    assert result["data"][CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()


async def test_reauth_changed_certificate_and_password_can_be_corrected(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A gateway reset (new certificate, new password) can be taken over by reauth."""
    entry = ems_entry_for(
        tls_simulator, **{CONF_FINGERPRINT: OLD_FINGERPRINT, CONF_PASSWORD: "old"}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "certificate_changed"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert CONF_PASSWORD in _fields(result)

    values = _form(tls_simulator.url)
    for _ in range(2):
        result = await _fill_and_submit(hass, result, values)
        if result["type"] is not FlowResultType.FORM:
            break
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == PASSWORD
    assert entry.data[CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()


async def test_setup_with_changed_certificate_starts_reauth(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """Setup stops at a changed certificate and asks the user to look at it."""
    entry = ems_entry_for(tls_simulator, **{CONF_FINGERPRINT: OLD_FINGERPRINT})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert tls_simulator.tokens_issued == 0
    [flow] = hass.config_entries.flow.async_progress()
    assert flow["handler"] == DOMAIN
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == entry.entry_id
    assert flow["step_id"] == "certificate_changed"
    assert entry.data[CONF_FINGERPRINT] == OLD_FINGERPRINT


# -- reconfigure ----------------------------------------------------------------


async def test_reconfigure_moves_to_new_address(
    hass: HomeAssistant, ems_simulator: EmsSimulator, closed_url: str
) -> None:
    """The same gateway at a new address is accepted after errors on the way."""
    entry = ems_entry_for(ems_simulator, **{CONF_HOST: closed_url})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_gavazzi_ems"
    assert result["errors"] == {}
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "http://", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_gavazzi_ems"
    assert result["errors"] == {CONF_HOST: "invalid_host"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: closed_url, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_gavazzi_ems"
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: f"{ems_simulator.url}/", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == ems_simulator.url
    assert entry.data[CONF_PASSWORD] == PASSWORD
    assert entry.unique_id == SERIAL
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_refuses_another_gateway(
    hass: HomeAssistant, ems_simulator: EmsSimulator, other_simulator: EmsSimulator
) -> None:
    """Another gateway at the new address is not silently adopted."""
    entry = ems_entry_for(ems_simulator)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: other_simulator.url, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_HOST] == ems_simulator.url


async def test_reconfigure_without_verification_clears_fingerprint(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """Turning verification off forgets the trusted certificate."""
    entry = ems_entry_for(tls_simulator)
    entry.add_to_hass(hass)
    assert entry.data[CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: tls_simulator.url, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_VERIFY_SSL] is False
    assert entry.data[CONF_FINGERPRINT] is None
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_keeps_matching_certificate(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """The trusted certificate still matching needs no new confirmation."""
    entry = ems_entry_for(tls_simulator)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: f"127.0.0.1:{tls_simulator.port}", CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == tls_simulator.url
    assert entry.data[CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()


async def test_reconfigure_confirms_changed_certificate(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A changed certificate met while reconfiguring is shown, then pinned."""
    assert tls_simulator.certificate_sha256 is not None
    entry = ems_entry_for(tls_simulator, **{CONF_FINGERPRINT: OLD_FINGERPRINT})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: tls_simulator.url, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate_changed"
    assert result["description_placeholders"] == {
        "host": tls_simulator.url,
        "fingerprint": _colons(tls_simulator.certificate_sha256),
        "previous": _colons(OLD_FINGERPRINT),
    }

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_FINGERPRINT] == tls_simulator.certificate_sha256
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_changed_certificate_with_refused_account(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """Reconfigure has no account fields: a refused login stays on its own step."""
    entry = ems_entry_for(
        tls_simulator, **{CONF_FINGERPRINT: OLD_FINGERPRINT, CONF_PASSWORD: "stale"}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: tls_simulator.url, CONF_VERIFY_SSL: True}
    )
    assert result["step_id"] == "certificate_changed"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "certificate_changed"
    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data[CONF_FINGERPRINT] == OLD_FINGERPRINT


# -- options --------------------------------------------------------------------


async def test_options_flow_sets_polling_interval(
    hass: HomeAssistant, setup_ems: MockConfigEntry
) -> None:
    """New options are stored and take effect after the reload."""
    coordinator = setup_ems.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(seconds=10)
    result = await hass.config_entries.options.async_init(setup_ems.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gavazzi_ems_options"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30, CONF_IMPORT_HISTORY: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert setup_ems.options == {CONF_SCAN_INTERVAL: 30, CONF_IMPORT_HISTORY: False}
    await hass.async_block_till_done()
    assert setup_ems.state is ConfigEntryState.LOADED
    assert setup_ems.runtime_data.coordinator is not coordinator
    assert setup_ems.runtime_data.coordinator.update_interval == timedelta(seconds=30)


async def test_options_flow_shows_current_options(hass: HomeAssistant) -> None:
    """The form starts from the stored options and keeps options it does not show."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data={CONF_DEVICE_TYPE: "gavazzi_ems", CONF_HOST: "http://192.0.2.1"},
        options={CONF_SCAN_INTERVAL: 60, CONF_IMPORT_HISTORY: False, "other": 1},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "gavazzi_ems_options"
    schema = result["data_schema"]
    assert schema is not None
    assert schema({}) == {
        CONF_SCAN_INTERVAL: 60,
        CONF_IMPORT_HISTORY: False,
    }
    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 5, CONF_IMPORT_HISTORY: True}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_SCAN_INTERVAL: 5,
        CONF_IMPORT_HISTORY: True,
        "other": 1,
    }
    reload.assert_called_once_with(entry.entry_id)


@pytest.mark.parametrize("interval", [4, 301])
async def test_options_flow_rejects_out_of_range_interval(
    hass: HomeAssistant, interval: int
) -> None:
    """Polling faster than every 5 s or slower than every 5 min is refused."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data={CONF_DEVICE_TYPE: "gavazzi_ems", CONF_HOST: "http://192.0.2.1"},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_SCAN_INTERVAL: interval, CONF_IMPORT_HISTORY: True},
        )
    assert CONF_SCAN_INTERVAL in err.value.schema_errors
    assert entry.options == {}
