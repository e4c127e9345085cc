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
    timezone: str | None = None
    network_policy: str | None = None
    fixed_price: float | None = None
    """Minor currency units (cents, öre) per kWh, as the reader stores it."""
    reboot_on_cloud_failure: bool | None = None


# OTA states (see the API document's OTA lifecycle).
UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
READY_TO_REBOOT = "READY_TO_REBOOT"
REBOOTING = "REBOOTING"
FAILED = "FAILED"
SUCCESS = "SUCCESS"
BUSY = frozenset(
    {"DOWNLOAD_IN_PROGRESS", "VALIDATING", "INSTALL_IN_PROGRESS", REBOOTING}
)


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
    slot_list: list[dict[str, Any]]
    """The slots for a state attribute, in major units per kWh (built once)."""

    def price_at(self, moment: datetime) -> float | None:
        """Return the slot price covering `moment`, else the current price."""
        for slot in self.slots:
            if slot.start <= moment < slot.end:
                return slot.price
        return self.price


type HanMessage = HanInfo | MeterReading | Configuration | OtaState

SECRET_MASK = "***"  # noqa: S105 - how the reader reads back a stored secret


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
        timezone=as_str(data.get("t")),
        network_policy=as_str(data.get("np")),
        fixed_price=as_float(data.get("p")),
        reboot_on_cloud_failure=as_bool(data.get("bhf")),
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
    ordered = tuple(sorted(slots, key=lambda slot: slot.start))
    return Prices(
        price=as_float(data.get("price")),
        currency=as_str(data.get("currency")),
        slots=ordered,
        slot_list=[
            {
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "price": round(slot.price / 100, 6),
            }
            for slot in ordered
        ],
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


class HistoryPeriod(StrEnum):
    """The reader's history endpoints (`GET /history/<period>`) and bucket sizes."""

    HOURLY = "hourly"
    """10 s buckets, about the last hour."""
    WEEKLY = "weekly"
    """15 min buckets with prices, about the last week."""
    MONTHLY = "monthly"
    """Daily buckets."""
    YEARLY = "yearly"
    """Monthly buckets."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryBucket:
    """One history bucket: energy in kWh, power in W, price in minor units/kWh."""

    start: datetime
    final: bool
    """False for the live rolling bucket (the newest one) that still grows."""
    energy_import: float
    energy_export: float
    power_min: float | None
    power_avg: float | None
    power_max: float | None
    price: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """A history message: buckets oldest first, only the well-formed ones."""

    generated: datetime | None
    currency: str | None
    buckets: tuple[HistoryBucket, ...]


def _column(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def parse_history(payload: Any) -> History | None:
    """Parse a history message from its column arrays, by key.

    A bucket whose start, final flag or energies are missing or malformed (short
    arrays, non-numbers, negative energy) is dropped; missing power or price
    values are None.
    """
    data = mapping(payload)
    starts = data.get("t")
    if not isinstance(starts, list):
        return None
    columns = {
        key: _column(data, key)
        for key in ("f", "i", "e", "c_min", "c_avg", "c_max", "p")
    }

    def cell(key: str, index: int) -> float | None:
        column = columns[key]
        return as_float(column[index]) if index < len(column) else None

    buckets: dict[datetime, HistoryBucket] = {}
    for index, raw_start in enumerate(starts):
        start = from_epoch_seconds(raw_start)
        final = cell("f", index)
        imported = cell("i", index)
        exported = cell("e", index)
        if (
            start is None
            or final not in (0.0, 1.0)
            or imported is None
            or exported is None
            or imported < 0
            or exported < 0
        ):
            continue
        buckets[start] = HistoryBucket(
            start=start,
            final=final == 1.0,
            energy_import=imported,
            energy_export=exported,
            power_min=cell("c_min", index),
            power_avg=cell("c_avg", index),
            power_max=cell("c_max", index),
            price=cell("p", index),
        )
    return History(
        generated=from_epoch_seconds(data.get("x")),
        currency=as_str(data.get("pc")),
        buckets=tuple(buckets[start] for start in sorted(buckets)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurationResult:
    """The reader's answer to `POST /configuration`."""

    success: bool
    message: str | None
    reboot_required: bool


def parse_configuration_result(payload: Any) -> ConfigurationResult:
    """Parse a write answer; a missing flag means no reboot is needed."""
    data = mapping(payload)
    return ConfigurationResult(
        success=as_bool(data.get("success")) is not False,
        message=as_str(data.get("message")),
        reboot_required=as_bool(data.get("rebootRequired")) is True,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Definitions:
    """Selectable values for UIs (`GET /definitions`); empty when not offered."""

    currencies: tuple[str, ...]
    price_areas: tuple[str, ...]
    timezones: tuple[str, ...]


def _names(value: Any) -> tuple[str, ...]:
    """Strings of a list; items given as objects count by their id or value."""
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            item = item.get("id", item.get("value"))
        if (name := as_str(item)) is not None and name not in names:
            names.append(name)
    return tuple(names)


def parse_definitions(payload: Any) -> Definitions | None:
    """Parse the definitions message."""
    data = mapping(payload)
    if data.get("type") != "HAN_DEFINITIONS":
        return None
    return Definitions(
        currencies=_names(data.get("currencies")),
        price_areas=_names(data.get("priceAreas")),
        timezones=_names(data.get("timezones")),
    )


class ScanStatus(StrEnum):
    """States of the reader's WiFi scan (`GET /scan`)."""

    RUNNING = "SCAN_RUNNING"
    SUCCESS = "SCAN_SUCCESS"
    FAILED = "SCAN_FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class WifiNetwork:
    """One network a WiFi scan found; every field but the SSID may be missing."""

    ssid: str
    bssid: str | None
    rssi: int | None
    channel: int | None
    auth: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WifiScan:
    """A WiFi scan's state and, once it succeeded, the networks it found."""

    status: str | None
    networks: tuple[WifiNetwork, ...]


def parse_wifi_scan(payload: Any) -> WifiScan | None:
    """Parse a scan answer; hidden networks (no SSID) are left out."""
    data = mapping(payload)
    status = as_str(data.get("status"))
    if status is None:
        return None
    networks: list[WifiNetwork] = []
    raw_networks = data.get("networks")
    for raw in raw_networks if isinstance(raw_networks, list) else []:
        network = mapping(raw)
        ssid = as_str(network.get("ssid"))
        if ssid is None:
            continue
        networks.append(
            WifiNetwork(
                ssid=ssid,
                bssid=as_str(network.get("bssid")),
                rssi=as_int(network.get("rssi")),
                channel=as_int(network.get("channel")),
                auth=as_str(network.get("auth")),
            )
        )
    return WifiScan(status=status, networks=tuple(networks))


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactData:
    """The legacy `/data` snapshot; only its estimated costs are used."""

    currency: str | None
    estimated_cost: Mapping[str, float]
    """Running hour (`h`), day (`d`), month (`m`), in minor units; keys as sent."""


def parse_compact_data(payload: Any) -> CompactData | None:
    """Parse `/data`; estimated costs that are not numbers are left out."""
    data = mapping(payload)
    if data.get("type") != "HAN_COMPACT_DATA_MESSAGE":
        return None
    costs = {
        str(key): number
        for key, value in mapping(data.get("ep")).items()
        if (number := as_float(value)) is not None
    }
    return CompactData(currency=as_str(data.get("pc")), estimated_cost=costs)
