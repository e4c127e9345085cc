"""Firmware: the update entity, the firmware buttons and the upload action."""

from __future__ import annotations

from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.update import ATTR_IN_PROGRESS, ATTR_INSTALLED_VERSION
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.energy_gateways.const import DOMAIN
from simulators.cozify_han import HanFault, HanSimulator

from ..conftest import until, wait_for_state
from .conftest import READER, SERIAL

UPDATE = f"update.{READER}_firmware"
ACTIVATE = f"button.{READER}_activate_firmware"
CLEAR = f"button.{READER}_clear_failed_update"
RESTART = f"button.{READER}_restart"
IMAGE = b"\xe9" + b"\0" * 64 + b"HANFW 1.0.3.0\0" + b"\x5a" * 4096


@pytest.fixture
def quick_ota(han_simulator: HanSimulator) -> HanSimulator:
    """OTA steps and reboots without waiting."""
    han_simulator.ota_step_seconds = 0
    han_simulator.reboot_duration = 1
    return han_simulator


async def _after_reboot(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Let the reader finish its reboot and the stream reconnect."""
    stats = entry.runtime_data.coordinator.stats
    await until(lambda: stats.state == "backoff")
    freezer.tick(2)
    async_fire_time_changed(hass)
    await until(lambda: stats.state == "connected")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the buttons
async def test_update_offered_with_release_notes(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """The reader's offer shows as an available update with its notes and link."""
    state = hass.states.get(UPDATE)
    assert state is not None
    ota = han_simulator.ota
    assert state.state == STATE_ON
    assert state.attributes[ATTR_INSTALLED_VERSION] == han_simulator.state["version"]
    assert state.attributes["latest_version"] == ota["version"]
    assert state.attributes["release_url"] == ota["releaseNotesUrl"]
    assert state.attributes["in_progress"] is False
    assert state.attributes["commit"] == han_simulator.firmware["commit"]
    assert hass.states.get(ACTIVATE).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get(CLEAR).state == STATE_UNAVAILABLE  # type: ignore[union-attr]


async def test_install_downloads_activates_and_survives_the_reboot(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Install: download, activation, reboot, and the new version afterwards."""
    offered = quick_ota.ota["version"]
    seen_progress: list[object] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            seen_progress.append(
                event.data["new_state"].attributes.get("update_percentage")
            )
            if event.data["entity_id"] == UPDATE and event.data["new_state"]
            else None
        ),
    )
    await hass.services.async_call(
        "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
    )
    assert quick_ota.requests["/ota/activate"] == 1  # policy "download" waits for us
    rebooting = hass.states.get(UPDATE)
    assert rebooting is not None
    # Still installing until the reader is back (or already rebooting, unavailable).
    assert (
        rebooting.state == STATE_UNAVAILABLE or rebooting.attributes[ATTR_IN_PROGRESS]
    )
    await _after_reboot(hass, setup_han, freezer)
    state = await wait_for_state(
        hass, UPDATE, lambda s: s.attributes.get(ATTR_INSTALLED_VERSION) == offered
    )
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_IN_PROGRESS] is False
    assert any(isinstance(p, int) and 0 < p < 100 for p in seen_progress)
    reader = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_han.entry_id
    )
    assert reader is not None
    assert reader.sw_version == offered


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the buttons
async def test_failed_download_raises_and_can_be_cleared(
    hass: HomeAssistant, quick_ota: HanSimulator, setup_han: MockConfigEntry
) -> None:
    """A download that fails validation is a translated error; clearing resets it."""
    quick_ota.set_fault(HanFault.OTA_FAIL)
    with pytest.raises(HomeAssistantError) as failure:
        await hass.services.async_call(
            "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
        )
    assert failure.value.translation_key == "update_failed"
    assert failure.value.translation_placeholders == {"error": "invalid_firmware"}
    await wait_for_state(hass, CLEAR, lambda s: s.state != STATE_UNAVAILABLE)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: CLEAR}, blocking=True
    )
    await wait_for_state(hass, CLEAR, lambda s: s.state == STATE_UNAVAILABLE)
    assert hass.states.get(UPDATE).state == STATE_ON  # type: ignore[union-attr]


async def test_install_after_failure_clears_first(
    hass: HomeAssistant, quick_ota: HanSimulator, setup_han: MockConfigEntry
) -> None:
    """Installing again after a failure acknowledges it and starts over."""
    quick_ota.set_fault(HanFault.OTA_FAIL)
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
        )
    quick_ota.set_fault(HanFault.HTTP_ERROR, status=500)
    with pytest.raises(HomeAssistantError) as failure:
        await hass.services.async_call(
            "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
        )
    assert failure.value.translation_key == "cannot_connect"
    quick_ota.clear_fault(HanFault.HTTP_ERROR)
    await hass.services.async_call(
        "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
    )
    assert quick_ota.requests["/ota/clear"] >= 1
    assert quick_ota.requests["/ota/activate"] == 1


async def test_occasional_buttons_are_disabled_by_default(
    hass: HomeAssistant, setup_han: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The update entity activates and clears: its two buttons stay off the page."""
    for entity_id in (ACTIVATE, CLEAR):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(RESTART) is not None


async def test_restart_button(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
) -> None:
    """Restart reboots the reader; its entities come back by themselves."""
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: RESTART}, blocking=True
    )
    await wait_for_state(hass, UPDATE, lambda s: s.state == STATE_UNAVAILABLE)
    await _after_reboot(hass, setup_han, freezer)
    await wait_for_state(hass, UPDATE, lambda s: s.state != STATE_UNAVAILABLE)
    assert quick_ota.requests["/reboot"] == 1


async def test_button_error_is_translated(
    hass: HomeAssistant, han_simulator: HanSimulator, setup_han: MockConfigEntry
) -> None:
    """A press the reader cannot serve raises a translated error."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=503)
    with pytest.raises(HomeAssistantError) as failure:
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: RESTART}, blocking=True
        )
    assert failure.value.translation_key == "cannot_connect"


def _allow(hass: HomeAssistant, folder: Path) -> None:
    hass.config.allowlist_external_dirs = {str(folder)}


def _allowed_image(hass: HomeAssistant, folder: Path, content: bytes) -> Path:
    """Write an image file into a folder Home Assistant may read."""
    image = folder / "han.bin"
    image.write_bytes(content)
    _allow(hass, folder)
    return image


async def _upload(hass: HomeAssistant, path: Path) -> None:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, SERIAL), entry.entry_id
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "upload_firmware",
        {"device_id": device.id, "path": str(path)},
        blocking=True,
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the buttons
async def test_upload_stages_image_then_activate(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """An uploaded image is staged; the activate button installs it."""
    image = tmp_path / "han-1.0.3.0.bin"
    image.write_bytes(IMAGE)
    _allow(hass, tmp_path)
    quick_ota.set_fault(HanFault.EXPIRED_TOKEN)  # the first token is refused: 401
    await _upload(hass, image)
    assert quick_ota.last_uploaded_image == IMAGE
    assert quick_ota.requests["/auth/token"] == 2
    await wait_for_state(hass, ACTIVATE, lambda s: s.state != STATE_UNAVAILABLE)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: ACTIVATE}, blocking=True
    )
    await _after_reboot(hass, setup_han, freezer)
    await wait_for_state(
        hass, UPDATE, lambda s: s.attributes.get(ATTR_INSTALLED_VERSION) == "1.0.3.0"
    )


async def test_upload_falls_back_to_legacy_endpoint(
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """Readers without /ota get the image through the legacy /update."""
    image = _allowed_image(hass, tmp_path, IMAGE)
    quick_ota.set_fault(HanFault.NO_OTA_ENDPOINT)
    await _upload(hass, image)
    assert quick_ota.requests["/update"] == 1
    assert quick_ota.last_uploaded_image == IMAGE


async def test_upload_with_wrong_scope_is_refused(
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """403 (scope) is a translated error; nothing is staged."""
    image = _allowed_image(hass, tmp_path, IMAGE)
    quick_ota.set_fault(HanFault.TOKEN_SCOPE)
    with pytest.raises(HomeAssistantError) as failure:
        await _upload(hass, image)
    assert failure.value.translation_key == "forbidden"
    assert quick_ota.last_uploaded_image is None
    assert hass.states.get(UPDATE).attributes[ATTR_IN_PROGRESS] is False  # type: ignore[union-attr]


async def test_invalid_image_is_rejected_by_the_reader(
    hass: HomeAssistant,
    quick_ota: HanSimulator,
    setup_han: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """An image the reader refuses is a translated error with its reason."""
    image = tmp_path / "notes.txt"
    image.write_bytes(b"not firmware")
    _allow(hass, tmp_path)
    with pytest.raises(HomeAssistantError) as failure:
        await _upload(hass, image)
    assert failure.value.translation_key == "rejected"


@pytest.mark.parametrize(
    ("name", "content", "allowed", "key"),
    [
        ("missing.bin", None, True, "file_not_found"),
        ("empty.bin", b"", True, "file_empty"),
        ("big.bin", "sparse", True, "file_too_large"),
        ("ok.bin", IMAGE, False, "path_not_allowed"),
    ],
)
async def test_upload_input_is_validated(
    hass: HomeAssistant,
    han_simulator: HanSimulator,
    setup_han: MockConfigEntry,
    tmp_path: Path,
    name: str,
    content: bytes | str | None,
    allowed: bool,
    key: str,
) -> None:
    """Bad paths and files are refused before anything is sent to the reader."""
    path = tmp_path / name
    if content == "sparse":
        with path.open("wb") as handle:
            handle.truncate(17 * 1024 * 1024)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    if allowed:
        _allow(hass, tmp_path)
    with pytest.raises(ServiceValidationError) as failure:
        await _upload(hass, path)
    assert failure.value.translation_key == key
    assert han_simulator.requests["/auth/token"] == 0


async def test_upload_needs_a_loaded_reader(
    hass: HomeAssistant, setup_han: MockConfigEntry, tmp_path: Path
) -> None:
    """Unknown devices and unloaded entries are refused with a clear message."""
    with pytest.raises(ServiceValidationError) as failure:
        await hass.services.async_call(
            DOMAIN,
            "upload_firmware",
            {"device_id": "nope", "path": str(tmp_path / "x.bin")},
            blocking=True,
        )
    assert failure.value.translation_key == "unknown_device"
    await hass.config_entries.async_unload(setup_han.entry_id)
    with pytest.raises(ServiceValidationError) as failure:
        await _upload(hass, tmp_path / "x.bin")
    assert failure.value.translation_key == "entry_not_loaded"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the buttons
async def test_reboot_during_install_fails_cleanly(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han_simulator: HanSimulator,
    setup_han: MockConfigEntry,
) -> None:
    """A reboot that cuts the download short ends the install with the reason."""
    han_simulator.ota_step_seconds = 100  # the download stays in progress
    han_simulator.reboot_duration = 1
    install = hass.async_create_task(
        hass.services.async_call(
            "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
        )
    )
    await wait_for_state(hass, UPDATE, lambda s: s.attributes.get(ATTR_IN_PROGRESS))
    han_simulator.reboot(1)
    await _after_reboot(hass, setup_han, freezer)
    with pytest.raises(HomeAssistantError) as failure:
        await install
    assert failure.value.translation_key == "update_failed"
    assert failure.value.translation_placeholders == {"error": "interrupted"}
    state = hass.states.get(UPDATE)
    assert state is not None
    assert state.attributes[ATTR_IN_PROGRESS] is False
    assert state.attributes["ota_status"] == "FAILED"
    assert hass.states.get(CLEAR).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
