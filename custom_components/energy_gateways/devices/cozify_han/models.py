"""Typed views of the Cozify HAN reader's messages.

Every parser accepts any JSON value, never raises, and returns None for a value
that is missing or malformed: the reader's firmware revisions differ, and a
half-valid message must not take the integration down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ...transport.values import (
    as_bool,
    as_float,
    as_int,
    as_str,
    epoch_to_datetime,
    float_list,
    from_epoch_seconds,
    mapping,
)

type Phases = tuple[float | None, float | None, float | None, float | None]
"""[total, L1, L2, L3]"""
type PhaseValues = tuple[float | None, float | None, float | None]
"""[L1, L2, L3]"""


class MessageType(StrEnum):
    """The `type` discriminators this client understands."""

    STATE = "HAN_STATE_MESSAGE"
    METER = "HAN_METER_MESSAGE"
    CONFIGURATION = "HAN_CONFIGURATION_MESSAGE"
    CONFIGURATION_REST = "HAN_CONFIGURATION"  # GET /configuration names itself so
    OTA = "HAN_OTA_MESSAGE"
    HEALTH = "HAN_HEALTH_MESSAGE"
    FIRMWARE = "HAN_FIRMWARE_MESSAGE"
    METER_IDENTITY = "HAN_METER_IDENTITY_MESSAGE"
    PRICES = "HAN_PRICES_MESSAGE"


@dataclass(frozen=True, slots=True, kw_only=True)
class HanInfo:
    """Identity and state of the reader (`GET /han`, HAN_STATE_MESSAGE)."""

    serial: str | None
    mac: str | None
    name: str | None
    model: str | None
    version: str | None
    state: str | None
    eth_ip: str | None
    wifi_ip: str | None
    online: bool | None
    reboot_pending: bool | None
    reboot_reason: str | None
    channel: str | None

    @property
    def unique_id(self) -> str | None:
        """Serial number, or the MAC when a firmware does not report one."""
        if self.serial:
            return self.serial
        return self.mac.replace(":", "").replace("-", "").lower() if self.mac else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterReading:
    """One electricity-meter reading (HAN_METER_MESSAGE)."""

    timestamp: datetime | None
    energy_import: float | None
    energy_export: float | None
    reactive_energy_import: float | None
    reactive_energy_export: float | None
    power: Phases
    power_import: Phases
    power_export: Phases
    reactive_power: Phases
    reactive_power_import: Phases
    reactive_power_export: Phases
    voltage: PhaseValues
    current: PhaseValues


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterIdentity:
    """The meter behind the reader (`GET /meter/id`)."""

    manufacturer_id: str | None
    device_type: str | None
    meter_id: str | None
    meter_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """Reader health (`GET /health`); not pushed."""

    free_heap_percent: float | None
    wifi_rssi: int | None
    reset_reason: str | None
    uptime: timedelta | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Firmware:
    """Firmware metadata (`GET /firmware`)."""

    version: str | None
    commit: str | None
    build_time: str | None
    active_slot: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Configuration:
    """The reader's configuration; the raw object is kept for partial writes."""

    raw: Mapping[str, Any]
    main_fuse: int | None
    currency: str | None
    price_area: str | None
    update_policy: str | None
    use_spot_price: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OtaState:
    """OTA lifecycle (`GET /ota`, HAN_OTA_MESSAGE)."""

    status: str | None
    version: str | None
    release_notes: str | None
    release_notes_url: str | None
    progress: int | None
    critical: bool | None
    forced: bool | None
    staged_version: str | None
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSlot:
    """One price slot: [start, end) and the price in minor units per kWh."""

    start: datetime
    end: datetime
    price: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Prices:
    """Current price and known slots (`GET /prices`), prices in minor units/kWh."""

    price: float | None
    currency: str | None
    slots: tuple[PriceSlot, ...]

    def price_at(self, moment: datetime) -> float | None:
        """Return the slot price covering `moment`, else the current price."""
        for slot in self.slots:
            if slot.start <= moment < slot.end:
                return slot.price
        return self.price


type HanMessage = HanInfo | MeterReading | Configuration | OtaState


def parse_info(payload: Any) -> HanInfo | None:
    """Parse a state message; None unless it really is one."""
    data = mapping(payload)
    if data.get("type") != MessageType.STATE:
        return None
    return HanInfo(
        serial=as_str(data.get("serial")),
        mac=as_str(data.get("mac")),
        name=as_str(data.get("name")),
        model=as_str(data.get("model")),
        version=as_str(data.get("version")),
        state=as_str(data.get("state")),
        eth_ip=as_str(data.get("ethIp")),
        wifi_ip=as_str(data.get("wifiIp")),
        online=as_bool(data.get("online")),
        reboot_pending=as_bool(data.get("rebootPending")),
        reboot_reason=as_str(data.get("rebootReason")),
        channel=as_str(data.get("channel")),
    )


def _phases(value: Any) -> Phases:
    total, l1, l2, l3 = float_list(value, 4)
    return (total, l1, l2, l3)


def _phase_values(value: Any) -> PhaseValues:
    l1, l2, l3 = float_list(value, 3)
    return (l1, l2, l3)


def parse_meter(payload: Any, now: datetime) -> MeterReading | None:
    """Parse a meter reading; fields that are absent or malformed become None."""
    data = mapping(payload)
    if data.get("type") != MessageType.METER:
        return None
    return MeterReading(
        timestamp=epoch_to_datetime(data.get("ts"), now),
        energy_import=as_float(data.get("ic")),
        energy_export=as_float(data.get("ec")),
        reactive_energy_import=as_float(data.get("ric")),
        reactive_energy_export=as_float(data.get("rec")),
        power=_phases(data.get("p")),
        power_import=_phases(data.get("pi")),
        power_export=_phases(data.get("pe")),
        reactive_power=_phases(data.get("r")),
        reactive_power_import=_phases(data.get("ri")),
        reactive_power_export=_phases(data.get("re")),
        voltage=_phase_values(data.get("u")),
        current=_phase_values(data.get("i")),
    )


def parse_meter_identity(payload: Any) -> MeterIdentity | None:
    """Parse the meter identity message."""
    data = mapping(payload)
    if data.get("type") != MessageType.METER_IDENTITY:
        return None
    return MeterIdentity(
        manufacturer_id=as_str(data.get("manufacturerId")),
        device_type=as_str(data.get("deviceType")),
        meter_id=as_str(data.get("meterId")),
        meter_name=as_str(data.get("meterName")),
    )


def parse_health(payload: Any) -> Health | None:
    """Parse the health message."""
    data = mapping(payload)
    if data.get("type") != MessageType.HEALTH:
        return None
    uptime_ms = as_float(data.get("uptime_ms"))
    return Health(
        free_heap_percent=as_float(data.get("free_heap_percent")),
        wifi_rssi=as_int(data.get("wifi_rssi")),
        reset_reason=as_str(data.get("cpu_reset_reason")),
        uptime=timedelta(milliseconds=uptime_ms)
        if uptime_ms is not None and uptime_ms >= 0
        else None,
    )


def parse_firmware(payload: Any) -> Firmware | None:
    """Parse the firmware message."""
    data = mapping(payload)
    if data.get("type") != MessageType.FIRMWARE:
        return None
    return Firmware(
        version=as_str(data.get("version")),
        commit=as_str(data.get("commit")),
        build_time=as_str(data.get("time")),
        active_slot=as_str(data.get("activeSlot")),
    )


def parse_configuration(payload: Any) -> Configuration | None:
    """Parse the configuration (REST and pushed discriminators both accepted)."""
    data = mapping(payload)
    if data.get("type") not in (
        MessageType.CONFIGURATION,
        MessageType.CONFIGURATION_REST,
    ):
        return None
    return Configuration(
        raw=data,
        main_fuse=as_int(mapping(data.get("m")).get("f")),
        currency=as_str(data.get("pc")),
        price_area=as_str(data.get("pa")),
        update_policy=as_str(data.get("up")),
        use_spot_price=as_bool(data.get("s")),
    )


def parse_ota(payload: Any) -> OtaState | None:
    """Parse the OTA state message."""
    data = mapping(payload)
    if data.get("type") != MessageType.OTA:
        return None
    progress = as_int(data.get("progress"))
    return OtaState(
        status=as_str(data.get("status")),
        version=as_str(data.get("version")),
        release_notes=as_str(data.get("releaseNotes")),
        release_notes_url=as_str(data.get("releaseNotesUrl")),
        progress=progress if progress is not None and 0 <= progress <= 100 else None,
        critical=as_bool(data.get("critical")),
        forced=as_bool(data.get("forced")),
        staged_version=as_str(data.get("stagedVersion")),
        error=as_str(data.get("error")),
    )


def parse_prices(payload: Any) -> Prices | None:
    """Parse prices; slots with a bad start, end or price are dropped."""
    data = mapping(payload)
    if data.get("type") != MessageType.PRICES:
        return None
    slots: list[PriceSlot] = []
    raw_slots = data.get("prices")
    for raw in raw_slots if isinstance(raw_slots, list) else []:
        slot = mapping(raw)
        start = from_epoch_seconds(slot.get("s"))
        end = from_epoch_seconds(slot.get("e"))
        price = as_float(slot.get("p"))
        if start is None or end is None or price is None or end <= start:
            continue
        slots.append(PriceSlot(start=start, end=end, price=price))
    return Prices(
        price=as_float(data.get("price")),
        currency=as_str(data.get("currency")),
        slots=tuple(sorted(slots, key=lambda slot: slot.start)),
    )


def parse_stream_message(payload: Any, now: datetime) -> HanMessage | None:
    """Parse one pushed message by its discriminator; None for unknown types."""
    kind = mapping(payload).get("type")
    if kind == MessageType.METER:
        return parse_meter(payload, now)
    if kind == MessageType.STATE:
        return parse_info(payload)
    if kind in (MessageType.CONFIGURATION, MessageType.CONFIGURATION_REST):
        return parse_configuration(payload)
    if kind == MessageType.OTA:
        return parse_ota(payload)
    return None
