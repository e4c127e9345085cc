"""Adding, reauthenticating and reconfiguring a Cozify Hub through the UI flow.

Every path runs against the simulated Cozify cloud and hubs on loopback; the
code is the one the simulated cloud "mailed" (`last_code`).
"""

from __future__ import annotations

import time
from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.config_entries import SOURCE_REAUTH, ConfigFlowResult
from homeassistant.const import CONF_CODE, CONF_EMAIL, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.client import (
    DEFAULT_CLOUD_URL,
    CozifyCloud,
    CozifyHubClient,
)
from custom_components.energy_gateways.devices.cozify_hub.config_flow import (
    create_client,
)
from custom_components.energy_gateways.devices.cozify_hub.const import (
    CONF_CLOUD_TOKEN,
    CONF_CLOUD_URL,
    CONF_HUB_ID,
    CONF_HUB_KEY,
    CONF_MODE,
    CONF_TOKEN_RENEWED,
    MODE_CLOUD,
    MODE_LOCAL,
)
from simulators.cozify_hub import CozifyFault, CozifySimulator

from ..conftest import start_device_flow
from .conftest import EMAIL, cloud_login, cozify_entry_for, start_simulator

FLOW = "custom_components.energy_gateways.devices.cozify_hub.config_flow"


@pytest.fixture
async def closed_url(socket_enabled: None) -> str:
    """A loopback base URL nobody listens on."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    await runner.cleanup()
    return f"http://127.0.0.1:{port}"


def _start_form(cloud_url: str, email: str = EMAIL) -> dict[str, Any]:
    return {CONF_EMAIL: email, "advanced": {CONF_CLOUD_URL: cloud_url}}


async def _configure(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]
) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_configure(flow_id, user_input)


async def _to_code(hass: HomeAssistant, simulator: CozifySimulator) -> str:
    """Open the flow and submit the e-mail; return the flow id at the code step."""
    flow_id = await start_device_flow(hass, "cozify_hub")
    codes = simulator.codes_sent
    result = await _configure(hass, flow_id, _start_form(simulator.cloud_url))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cozify_hub_code"
    assert result["errors"] == {}
    assert simulator.codes_sent == codes + 1
    return flow_id


async def _enter_code(
    hass: HomeAssistant, flow_id: str, simulator: CozifySimulator
) -> ConfigFlowResult:
    assert simulator.last_code is not None
    return await _configure(hass, flow_id, {CONF_CODE: simulator.last_code})


async def _to_connection(
    hass: HomeAssistant, simulator: CozifySimulator, hub: int = 0
) -> tuple[str, ConfigFlowResult]:
    """Log in and pick a hub; return the flow id and the connection form."""
    flow_id = await _to_code(hass, simulator)
    result = await _enter_code(hass, flow_id, simulator)
    if len(simulator.hubs) > 1:
        assert result["step_id"] == "cozify_hub_hub"
        result = await _configure(
            hass, flow_id, {CONF_HUB_ID: simulator.hubs[hub].hub_id}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cozify_hub_connection"
    return flow_id, result


def _options(result: ConfigFlowResult, key: str) -> list[dict[str, str]]:
    """The options of a select field of a form."""
    schema = result["data_schema"]
    assert schema is not None
    field = next(marker for marker in schema.schema if str(marker) == key)
    options: list[dict[str, str]] = schema.schema[field].config["options"]
    return options


def _default(result: ConfigFlowResult, key: str) -> Any:
    schema = result["data_schema"]
    assert schema is not None
    return next(marker for marker in schema.schema if str(marker) == key).default()


def _choices(result: ConfigFlowResult) -> list[str]:
    return [option["value"] for option in _options(result, "connection")]


async def _hub_key_works(
    hass: HomeAssistant, data: dict[str, Any] | Any, *, relay: bool = False
) -> None:
    """The stored credentials reach the hub (through the relay if asked)."""
    client = create_client(
        hass, {**data, CONF_MODE: MODE_CLOUD if relay else MODE_LOCAL}
    )
    assert isinstance(client, CozifyHubClient)
    meta = await client.connect()
    assert meta.hub_id == data[CONF_HUB_ID]
    assert await client.devices()


# -- adding a hub ---------------------------------------------------------------


async def test_add_a_hub_found_on_the_lan(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Two hubs on the account: chosen by name; found on the LAN, decoy skipped."""
    before = time.time()
    flow_id = await _to_code(hass, cozify)
    result = await _enter_code(hass, flow_id, cozify)
    assert result["step_id"] == "cozify_hub_hub"
    koti, mokki = cozify.hubs
    assert _options(result, CONF_HUB_ID) == [
        {"value": koti.hub_id, "label": f"Koti ({koti.hub_id})"},
        {"value": mokki.hub_id, "label": f"Mökki ({mokki.hub_id})"},
    ]
    result = await _configure(hass, flow_id, {CONF_HUB_ID: koti.hub_id})
    assert result["step_id"] == "cozify_hub_connection"
    # lan_ip lists hub 0 and a HAN reader; only the hub is offered.
    assert _choices(result) == [koti.url, "manual", "cloud"]
    assert _default(result, "connection") == koti.url
    assert result["description_placeholders"] == {"found": "1"}
    result = await _configure(hass, flow_id, {"connection": koti.url})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Koti"
    assert result["result"].unique_id == koti.hub_id
    data = dict(result["data"])
    assert before <= data.pop(CONF_TOKEN_RENEWED) <= time.time()
    token, key = data.pop(CONF_CLOUD_TOKEN), data.pop(CONF_HUB_KEY)
    assert data == {
        CONF_DEVICE_TYPE: "cozify_hub",
        CONF_EMAIL: EMAIL,
        CONF_CLOUD_URL: cozify.cloud_url,
        CONF_HUB_ID: koti.hub_id,
        CONF_HOST: koti.url,
        CONF_MODE: MODE_LOCAL,
    }
    assert token
    assert key
    await _hub_key_works(hass, result["data"])


async def test_a_single_hub_is_not_asked_for(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """One hub on the account: straight from the code to the connection."""
    simulator = await start_simulator(hubs=1)
    try:
        flow_id = await _to_code(hass, simulator)
        result = await _enter_code(hass, flow_id, simulator)
        assert result["step_id"] == "cozify_hub_connection"
        assert _choices(result) == [simulator.hub.url, "manual", "cloud"]
    finally:
        await simulator.stop()


async def test_other_hubs_on_the_lan_are_not_offered(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """lan_ip lists both hubs (bare IPs too): only the chosen one is offered."""
    simulator = await start_simulator(lan_hubs=(0, 1))
    try:
        _, result = await _to_connection(hass, simulator, hub=1)
        assert _choices(result) == [simulator.hubs[1].url, "manual", "cloud"]
    finally:
        await simulator.stop()


async def test_the_form_offers_the_cozify_cloud(hass: HomeAssistant) -> None:
    """The cloud address is pre-filled, in a collapsed section."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await _configure(hass, result["flow_id"], {"next_step_id": "cozify_hub"})
    schema = result["data_schema"]
    assert schema is not None
    advanced = next(marker for marker in schema.schema if str(marker) == "advanced")
    section = schema.schema[advanced]
    assert section.options == {"collapsed": True}
    url = next(marker for marker in section.schema.schema)
    assert url.default() == DEFAULT_CLOUD_URL


async def test_unusable_cloud_addresses(
    hass: HomeAssistant, cozify: CozifySimulator, closed_url: str
) -> None:
    """Not a URL, nobody there, not the Cozify cloud, a surprise; then right."""
    flow_id = await start_device_flow(hass, "cozify_hub")
    result = await _configure(hass, flow_id, _start_form("ftp://example.com"))
    assert result["errors"] == {"base": "invalid_url"}
    assert result["step_id"] == "cozify_hub"
    # The section opens to show the wrong address again.
    schema = result["data_schema"]
    assert schema is not None
    advanced = next(marker for marker in schema.schema if str(marker) == "advanced")
    assert schema.schema[advanced].options == {"collapsed": False}
    result = await _configure(hass, flow_id, _start_form(closed_url))
    assert result["errors"] == {"base": "cloud_cannot_connect"}
    result = await _configure(hass, flow_id, _start_form(cozify.hub.url))
    assert result["errors"] == {"base": "not_a_cozify_cloud"}
    with patch.object(
        CozifyCloud, "request_login", side_effect=RuntimeError("boom")
    ) as request_login:
        result = await _configure(hass, flow_id, _start_form(cozify.cloud_url))
    request_login.assert_awaited_once()
    assert result["errors"] == {"base": "unknown"}
    assert cozify.codes_sent == 0
    result = await _configure(hass, flow_id, _start_form(f"{cozify.cloud_url}/"))
    assert result["step_id"] == "cozify_hub_code"
    assert cozify.codes_sent == 1


async def test_a_wrong_or_expired_code_can_be_corrected(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Empty, wrong and expired codes: the code form again, with an error."""
    flow_id = await _to_code(hass, cozify)
    result = await _configure(hass, flow_id, {CONF_CODE: "  "})
    assert result["step_id"] == "cozify_hub_code"
    assert result["errors"] == {"base": "invalid_code"}
    result = await _configure(hass, flow_id, {})
    assert result["errors"] == {"base": "invalid_code"}
    code = cozify.last_code
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    result = await _configure(hass, flow_id, {CONF_CODE: wrong})
    assert result["step_id"] == "cozify_hub_code"
    assert result["errors"] == {"base": "invalid_code"}
    cozify.expire_codes_now()
    result = await _configure(hass, flow_id, {CONF_CODE: code})
    assert result["errors"] == {"base": "invalid_code"}
    # Ask for a new one: no error, the form says a new code is on its way.
    result = await _configure(hass, flow_id, {CONF_CODE: code, "resend": True})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cozify_hub_code_resent"
    assert result["errors"] == {}
    assert cozify.codes_sent == 2
    assert cozify.last_code != code
    result = await _configure(hass, flow_id, {CONF_CODE: code})
    assert result["step_id"] == "cozify_hub_code_resent"
    assert result["errors"] == {"base": "invalid_code"}
    result = await _enter_code(hass, flow_id, cozify)
    assert result["step_id"] == "cozify_hub_hub"


async def test_the_code_step_when_the_cloud_fails(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Cloud gone while resending or logging in; a surprise: errors, then on."""
    flow_id = await _to_code(hass, cozify)
    cozify.set_fault(CozifyFault.HTTP_ERROR, path="/user", status=502)
    result = await _configure(hass, flow_id, {"resend": True})
    assert result["step_id"] == "cozify_hub_code"  # nothing was sent
    assert result["errors"] == {"base": "cloud_cannot_connect"}
    result = await _enter_code(hass, flow_id, cozify)
    assert result["errors"] == {"base": "cloud_cannot_connect"}
    cozify.clear_fault(CozifyFault.HTTP_ERROR)
    with patch.object(
        CozifyCloud, "email_login", side_effect=RuntimeError("boom")
    ) as email_login:
        result = await _enter_code(hass, flow_id, cozify)
    email_login.assert_awaited_once()
    assert result["errors"] == {"base": "unknown"}
    result = await _enter_code(hass, flow_id, cozify)
    assert result["step_id"] == "cozify_hub_hub"


async def test_an_account_without_hubs(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Nothing to add: the flow ends with the reason."""
    flow_id = await _to_code(hass, cozify)
    with patch.object(CozifyCloud, "hub_keys", return_value={}):
        result = await _enter_code(hass, flow_id, cozify)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_hubs"


async def test_a_hub_is_added_once(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The hub of an existing entry: already configured, before any search."""
    (await cozify_entry_for(cozify)).add_to_hass(hass)
    flow_id = await _to_code(hass, cozify)
    await _enter_code(hass, flow_id, cozify)
    lan_ip = cozify.cloud.requests["GET /hub/lan_ip"]
    result = await _configure(hass, flow_id, {CONF_HUB_ID: cozify.hub.hub_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert cozify.cloud.requests["GET /hub/lan_ip"] == lan_ip


@pytest.mark.parametrize("failure", ["not_listed", "lan_ip_fails", "hub_offline"])
async def test_nothing_found_on_the_lan(
    hass: HomeAssistant, socket_enabled: None, failure: str
) -> None:
    """Not listed, the list fails, the listed hub is off: typed address or cloud."""
    simulator = await start_simulator(lan_hubs=() if failure == "not_listed" else (0,))
    try:
        if failure == "lan_ip_fails":
            simulator.set_fault(CozifyFault.HTTP_ERROR, path="/hub/lan_ip")
        if failure == "hub_offline":
            simulator.set_fault(CozifyFault.LAN_UNREACHABLE)
        _, result = await _to_connection(hass, simulator)
        assert _choices(result) == ["manual", "cloud"]
        assert _default(result, "connection") == "manual"
        assert result["description_placeholders"] == {"found": "0"}
    finally:
        await simulator.stop()


async def test_a_typed_address(
    hass: HomeAssistant, cozify: CozifySimulator, closed_url: str
) -> None:
    """Not an address, nobody there, a HAN reader, another hub; then the hub."""
    assert cozify.decoy is not None
    flow_id, _ = await _to_connection(hass, cozify)
    result = await _configure(hass, flow_id, {"connection": "manual"})
    assert result["step_id"] == "cozify_hub_host"
    assert result["errors"] == {}
    for typed, error in (
        ("http://", "invalid_host"),
        (closed_url, "cannot_connect"),
        (cozify.decoy.url, "not_a_cozify_hub"),
        (cozify.hubs[1].url, "wrong_hub"),
    ):
        result = await _configure(hass, flow_id, {CONF_HOST: typed})
        assert result["step_id"] == "cozify_hub_host"
        assert result["errors"] == {CONF_HOST: error}, typed
        assert _default(result, CONF_HOST) == typed
    with patch(f"{FLOW}.probe_hub", side_effect=RuntimeError("boom")) as probe:
        result = await _configure(hass, flow_id, {CONF_HOST: cozify.hub.url})
    probe.assert_awaited_once()
    assert result["errors"] == {"base": "unknown"}
    # Typed as people do: without a scheme.
    typed = cozify.hub.url.removeprefix("http://")
    result = await _configure(hass, flow_id, {CONF_HOST: typed})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Koti"
    assert result["data"][CONF_HOST] == cozify.hub.url
    assert result["data"][CONF_MODE] == MODE_LOCAL


async def test_through_the_cozify_cloud(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Relay refused, cloud gone, a surprise: errors; then relayed for good."""
    flow_id, _ = await _to_connection(hass, cozify, hub=1)
    cozify.set_fault(CozifyFault.RELAY_REFUSED)
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["step_id"] == "cozify_hub_connection"
    assert result["errors"] == {"base": "relay_refused"}
    cozify.clear_fault(CozifyFault.RELAY_REFUSED)
    cozify.set_fault(CozifyFault.HTTP_ERROR, path="/hub/remote", status=502)
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["errors"] == {"base": "cloud_cannot_connect"}
    cozify.clear_fault(CozifyFault.HTTP_ERROR)
    with patch.object(
        CozifyHubClient, "connect", side_effect=RuntimeError("boom")
    ) as connect:
        result = await _configure(hass, flow_id, {"connection": "cloud"})
    connect.assert_awaited_once()
    assert result["errors"] == {"base": "unknown"}
    # The key from the login has been refused meanwhile: renewed on the way.
    cozify.hubs[1].expire_keys_now()
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Mökki"
    assert result["result"].unique_id == cozify.hubs[1].hub_id
    assert result["data"][CONF_HOST] is None
    assert result["data"][CONF_MODE] == MODE_CLOUD
    await _hub_key_works(hass, result["data"], relay=True)


async def test_the_login_expires_before_the_hub_is_added(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The cloud token is refused at the relay check: start again."""
    flow_id, _ = await _to_connection(hass, cozify)
    cozify.expire_cloud_tokens_now()
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "login_expired"


# -- reauth ---------------------------------------------------------------------


async def test_reauth_with_a_new_code(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The cloud token is gone: e-mail, code, and the entry has new credentials."""
    entry = await cozify_entry_for(cozify, token_renewed_at=0.0)
    entry.add_to_hass(hass)
    old = dict(entry.data)
    cozify.expire_cloud_tokens_now()
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm_cozify_hub"
    assert result["description_placeholders"] == {"name": "Koti"}
    assert _default(result, CONF_EMAIL) == EMAIL
    flow_id = result["flow_id"]
    cozify.set_fault(CozifyFault.CLOUD_DOWN)
    result = await _configure(hass, flow_id, {CONF_EMAIL: EMAIL})
    assert result["step_id"] == "reauth_confirm_cozify_hub"
    assert result["errors"] == {"base": "cloud_cannot_connect"}
    cozify.clear_fault(CozifyFault.CLOUD_DOWN)
    result = await _configure(hass, flow_id, {CONF_EMAIL: f" {EMAIL.upper()} "})
    assert result["step_id"] == "cozify_hub_code"
    result = await _configure(hass, flow_id, {CONF_CODE: "000000"})
    assert result["errors"] == {"base": "invalid_code"}
    result = await _enter_code(hass, flow_id, cozify)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_EMAIL] == EMAIL.upper()
    assert entry.data[CONF_CLOUD_TOKEN] != old[CONF_CLOUD_TOKEN]
    assert entry.data[CONF_HUB_KEY] != old[CONF_HUB_KEY]
    assert entry.data[CONF_TOKEN_RENEWED] > 0
    assert {key: entry.data[key] for key in (CONF_HOST, CONF_MODE, CONF_HUB_ID)} == {
        key: old[key] for key in (CONF_HOST, CONF_MODE, CONF_HUB_ID)
    }
    await _hub_key_works(hass, entry.data, relay=True)


async def test_reauth_with_an_account_without_the_hub(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Signed in to an account that does not have the entry's hub: refused."""
    two = await start_simulator(hubs=2)
    one = await start_simulator(hubs=1)
    try:
        entry = await cozify_entry_for(two, hub=1, cloud_url=one.cloud_url)
        entry.add_to_hass(hass)
        old = dict(entry.data)
        result = await entry.start_reauth_flow(hass)
        result = await _configure(hass, result["flow_id"], {CONF_EMAIL: EMAIL})
        result = await _enter_code(hass, result["flow_id"], one)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_account"
        assert entry.data == old
    finally:
        await one.stop()
        await two.stop()


# -- reconfigure ----------------------------------------------------------------


async def test_reconfigure_from_the_lan_to_the_cloud_and_back(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Switch to the relay (refused first), then back to the address found."""
    entry = await cozify_entry_for(cozify)
    entry.add_to_hass(hass)
    old_key = entry.data[CONF_HUB_KEY]
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_cozify_hub"
    assert _choices(result) == [cozify.hub.url, "manual", "cloud"]
    assert _default(result, "connection") == cozify.hub.url
    flow_id = result["flow_id"]
    cozify.set_fault(CozifyFault.RELAY_REFUSED)
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["step_id"] == "reconfigure_cozify_hub"
    assert result["errors"] == {"base": "relay_refused"}
    cozify.clear_fault(CozifyFault.RELAY_REFUSED)
    result = await _configure(hass, flow_id, {"connection": "cloud"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert (entry.data[CONF_HOST], entry.data[CONF_MODE]) == (None, MODE_CLOUD)
    assert entry.data[CONF_HUB_KEY] != old_key
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    assert _default(result, "connection") == "cloud"
    result = await _configure(hass, result["flow_id"], {"connection": cozify.hub.url})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == cozify.hub.url
    assert entry.data[CONF_MODE] == MODE_LOCAL
    await hass.async_block_till_done()


async def test_reconfigure_to_a_typed_address(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """The hub moved and lan_ip does not list it: typed; another hub refused."""
    simulator = await start_simulator(lan_hubs=())
    try:
        entry = await cozify_entry_for(simulator, host="http://192.0.2.1:8893")
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        assert _choices(result) == ["manual", "cloud"]
        assert _default(result, "connection") == "manual"
        flow_id = result["flow_id"]
        result = await _configure(hass, flow_id, {"connection": "manual"})
        assert result["step_id"] == "cozify_hub_host"
        result = await _configure(hass, flow_id, {CONF_HOST: simulator.hubs[1].url})
        assert result["errors"] == {CONF_HOST: "wrong_hub"}
        result = await _configure(hass, flow_id, {CONF_HOST: simulator.hub.url})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_HOST] == simulator.hub.url
        assert entry.data[CONF_MODE] == MODE_LOCAL
        await hass.async_block_till_done()
    finally:
        await simulator.stop()


async def test_reconfigure_with_a_dead_cloud_token(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """No new hub key without the cloud token: aborted, and a reauth starts."""
    entry = await cozify_entry_for(cozify)
    entry.add_to_hass(hass)
    old = dict(entry.data)
    cozify.expire_cloud_tokens_now()
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_required"
    assert entry.data == old
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["step_id"] == "reauth_confirm_cozify_hub"


async def test_reconfigure_when_the_token_dies_on_the_way(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The token is refused at the relay check: aborted, a reauth starts."""
    entry = await cozify_entry_for(cozify)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    cozify.expire_cloud_tokens_now()
    cozify.hub.expire_keys_now()
    result = await _configure(hass, result["flow_id"], {"connection": "cloud"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_required"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_reconfigure_a_hub_that_left_the_account(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """The account no longer lists the entry's hub: a new login is needed."""
    two = await start_simulator(hubs=2)
    one = await start_simulator(hubs=1)
    try:
        token, _ = await cloud_login(one)
        entry = await cozify_entry_for(
            two, hub=1, cloud_url=one.cloud_url, cloud_token=token
        )
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_required"
        await hass.async_block_till_done()
    finally:
        await one.stop()
        await two.stop()


async def test_reconfigure_when_the_cloud_fails(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """The hub key cannot be renewed: aborted, the entry unchanged."""
    entry = await cozify_entry_for(cozify)
    entry.add_to_hass(hass)
    old = dict(entry.data)
    cozify.set_fault(CozifyFault.CLOUD_DOWN)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cloud_cannot_connect"
    cozify.clear_fault(CozifyFault.CLOUD_DOWN)
    with patch.object(
        CozifyCloud, "hub_keys", side_effect=RuntimeError("boom")
    ) as hub_keys:
        result = await entry.start_reconfigure_flow(hass)
    hub_keys.assert_awaited_once()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unknown"
    assert entry.data == old
