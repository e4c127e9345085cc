"""OTA and legacy firmware update state machine of the HAN reader simulator."""

import asyncio
from collections.abc import Coroutine
from enum import StrEnum
import re
import time
from typing import Any, Protocol

ESP_IMAGE_MAGIC = 0xE9
_VERSION_RE = re.compile(rb"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\d.])")


class OtaStatus(StrEnum):
    """OTA lifecycle states (shared vocabulary of ``/ota`` and legacy ``/update``)."""

    IDLE = "IDLE"
    UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"
    VALIDATING = "VALIDATING"
    INSTALL_IN_PROGRESS = "INSTALL_IN_PROGRESS"
    READY_TO_REBOOT = "READY_TO_REBOOT"
    REBOOTING = "REBOOTING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


BUSY = frozenset(
    {
        OtaStatus.DOWNLOAD_IN_PROGRESS,
        OtaStatus.VALIDATING,
        OtaStatus.INSTALL_IN_PROGRESS,
        OtaStatus.REBOOTING,
    }
)


class OtaError(Exception):
    """An OTA request cannot be served; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class OtaHost(Protocol):
    """What the OTA state machine needs from the simulator."""

    ota_step_seconds: float

    @property
    def installed_version(self) -> str:
        """Firmware version running now."""

    @property
    def update_policy(self) -> str:
        """Configured update policy (``up``)."""

    def broadcast(self, message: dict[str, Any]) -> None:
        """Push a message to every stream client."""

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a coroutine as a task the simulator cancels on stop."""

    def reboot_into(self, version: str) -> None:
        """Reboot and come back running ``version``."""


def version_tuple(version: str) -> tuple[int, ...]:
    """Return ``1.0.2.0`` as ``(1, 0, 2, 0)`` for comparisons (junk parts count 0)."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def bump(version: str) -> str:
    """Return the version with its last part increased by one."""
    parts = version.split(".")
    last = int(parts[-1]) if parts[-1].isdigit() else 0
    return ".".join([*parts[:-1], str(last + 1)])


def image_version(image: bytes, fallback: str) -> str:
    """Return the first ``a.b.c.d`` version string found in the image, else ``fallback``."""
    match = _VERSION_RE.search(image[:65536])
    return match.group(1).decode("ascii") if match else fallback


def image_valid(image: bytes) -> bool:
    """Return whether the image looks like an ESP32 application image."""
    return len(image) > 0 and image[0] == ESP_IMAGE_MAGIC


class OtaManager:
    """Staged (``/ota``) and legacy (``/update``) firmware update flows."""

    def __init__(self, host: OtaHost, uuid: str, offered_version: str) -> None:
        self._host = host
        self._uuid = uuid
        self._task: asyncio.Task[None] | None = None
        # the cloud offer survives local uploads, so /ota/clear can restore it
        self.offered_version: str | None = None
        self.status = OtaStatus.IDLE
        self.fail_next = False
        """Fail the next download at validation (the OTA_FAIL fault)."""
        self.version = host.installed_version
        self.release_notes = ""
        self.release_notes_url = ""
        self.source = "cloud"
        self.critical = False
        self.forced = False
        self.allow_download = False
        self.progress = 0
        self.active_slot = "slot1"
        self.staged_slot = "slot2"
        self.staged_version: str | None = None
        self.error: str | None = None
        self.legacy: dict[str, Any] = {
            "status": OtaStatus.IDLE.value,
            "updating": False,
            "rebootPending": False,
            "bytesWritten": 0,
            "bytesExpected": 0,
            "progress": 0,
            "error": None,
        }
        self.offer(offered_version)

    def offer(
        self, version: str, release_notes: str | None = None, *, critical: bool = False
    ) -> None:
        """Offer a cloud update: status UPDATE_AVAILABLE (unless something is busy)."""
        self.offered_version = version
        self.release_notes = release_notes or (
            f"Firmware {version}: faster reconnects after meter cable faults, "
            "corrected reactive energy counters and security fixes."
        )
        self.release_notes_url = (
            f"https://cozify.github.io/han-firmware/releases/{version}.html"
        )
        self.critical = critical
        if self.status in BUSY or self.status is OtaStatus.READY_TO_REBOOT:
            return
        self.status = OtaStatus.UPDATE_AVAILABLE
        self.version = version
        self.source = "cloud"
        self.allow_download = True
        self.progress = 0
        self.error = None

    def message(self) -> dict[str, Any]:
        """Return the current ``HAN_OTA_MESSAGE``."""
        return {
            "type": "HAN_OTA_MESSAGE",
            "ts": int(time.time() * 1000),
            "uuid": self._uuid,
            "status": self.status.value,
            "version": self.version,
            "releaseNotes": self.release_notes,
            "releaseNotesUrl": self.release_notes_url,
            "source": self.source,
            "critical": self.critical,
            "forced": self.forced,
            "allowDownload": self.allow_download,
            "progress": self.progress,
            "activeSlot": self.active_slot,
            "stagedSlot": self.staged_slot,
            "stagedVersion": self.staged_version,
            "error": self.error,
        }

    def _changed(self) -> None:
        self._host.broadcast(self.message())

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        self._task = self._host.spawn(coro)

    def _check_idle(self) -> None:
        if self.status in BUSY:
            raise OtaError(503, f"OTA operation in progress ({self.status.value})")

    # ---- staged flow -------------------------------------------------------

    def download(self) -> dict[str, Any]:
        """Start downloading the offered cloud image (``POST /ota/download``)."""
        if self.status is OtaStatus.DOWNLOAD_IN_PROGRESS:
            return self.message()
        if self.status is not OtaStatus.UPDATE_AVAILABLE or not self.allow_download:
            raise OtaError(400, f"no update to download (status {self.status.value})")
        self.status = OtaStatus.DOWNLOAD_IN_PROGRESS
        self.source = "cloud"
        self.progress = 0
        self.error = None
        self._changed()
        self._run(self._download())
        return self.message()

    async def _download(self) -> None:
        step = self._host.ota_step_seconds
        for progress in range(10, 101, 10):
            await asyncio.sleep(step)
            self.progress = progress
            self._changed()
        self.status = OtaStatus.VALIDATING
        self._changed()
        await asyncio.sleep(step)
        if self.fail_next:
            self.fail_next = False
            self.status = OtaStatus.FAILED
            self.error = "invalid_firmware"
            self.progress = 0
            self._changed()
            return
        self._stage(self.version)
        if self._host.update_policy == "automatic":
            self.activate()

    def upload(self, image: bytes) -> tuple[int, dict[str, Any]]:
        """Validate and stage an uploaded image (``POST /ota``); returns status, body."""
        self._check_idle()
        version = image_version(image, self._fallback_version())
        self.source = "local"
        self.staged_version = None
        if not image_valid(image):
            self.status = OtaStatus.FAILED
            self.error = "invalid_firmware"
            self.progress = 0
            self._changed()
            return 400, self.message()
        self.status = OtaStatus.VALIDATING
        self.version = version
        self.progress = 0
        self.error = None
        self._changed()
        self._run(self._validate(version))
        return 200, self.message()

    async def _validate(self, version: str) -> None:
        await asyncio.sleep(self._host.ota_step_seconds)
        self._stage(version)

    def _stage(self, version: str) -> None:
        self.status = OtaStatus.READY_TO_REBOOT
        self.staged_version = version
        self.progress = 100
        self._changed()

    def _fallback_version(self) -> str:
        installed = self._host.installed_version
        offer = self.offered_version
        if offer is not None and version_tuple(offer) > version_tuple(installed):
            return offer
        return bump(installed)

    def clear(self) -> dict[str, Any]:
        """Acknowledge a FAILED state (``POST /ota/clear``); other states are kept."""
        if self.status is OtaStatus.FAILED:
            offer = self.offered_version
            installed = self._host.installed_version
            if offer is not None and version_tuple(offer) > version_tuple(installed):
                self.offer(offer, self.release_notes, critical=self.critical)
            else:
                self.status = OtaStatus.IDLE
                self.version = installed
                self.error = None
                self.progress = 0
            self._changed()
        return self.message()

    def activate(self) -> dict[str, Any]:
        """Activate the staged image and reboot (``POST /ota/activate``)."""
        if self.status is not OtaStatus.READY_TO_REBOOT or self.staged_version is None:
            raise OtaError(400, f"no staged image (status {self.status.value})")
        self.status = OtaStatus.REBOOTING
        self._changed()
        message = self.message()
        self._host.reboot_into(self.staged_version)
        return message

    # ---- legacy flow -------------------------------------------------------

    def legacy_upload(self, image: bytes) -> tuple[int, dict[str, Any]]:
        """Legacy ``POST /update``: validate, activate and reboot in one go."""
        self._check_idle()
        if self.legacy["rebootPending"]:
            raise OtaError(503, "reboot pending")
        size = len(image)
        self.legacy.update(bytesWritten=size, bytesExpected=size)
        if not image_valid(image):
            self.legacy.update(
                status=OtaStatus.FAILED.value,
                updating=False,
                progress=0,
                error="invalid_firmware",
            )
            return 400, dict(self.legacy)
        self.legacy.update(
            status=OtaStatus.SUCCESS.value,
            updating=False,
            rebootPending=True,
            progress=100,
            error=None,
        )
        body = dict(self.legacy)
        self._host.reboot_into(image_version(image, self._fallback_version()))
        return 200, body

    # ---- reboots -----------------------------------------------------------

    def interrupted(self) -> None:
        """Fail a download or validation that a plain reboot cut short."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        if self.status in BUSY and self.status is not OtaStatus.REBOOTING:
            self.status = OtaStatus.FAILED
            self.error = "interrupted"
            self.progress = 0

    def installed(self, version: str) -> None:
        """Record that the reader came back from an update reboot running ``version``."""
        self._task = None
        self.active_slot, self.staged_slot = self.staged_slot, self.active_slot
        self.status = OtaStatus.SUCCESS
        self.version = version
        self.staged_version = None
        self.progress = 100
        self.error = None
        self.allow_download = False
        offer = self.offered_version
        if offer is not None and version_tuple(offer) <= version_tuple(version):
            self.offered_version = None
        self.legacy.update(
            status=OtaStatus.SUCCESS.value, updating=False, rebootPending=False
        )
        self._changed()
