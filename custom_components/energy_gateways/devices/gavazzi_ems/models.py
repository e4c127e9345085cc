"""Typed views of the EMS Webapi payloads.

Every parser accepts any JSON value and never raises: a missing or malformed field
becomes None, a malformed record is skipped. Collections arrive as maps keyed by
the UID as a string; they are returned keyed by int. Realtime `t` is epoch ms,
history `t`/`p` are epoch s: both become aware UTC datetimes here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
import re
from typing import Any

from ...transport.values import (
    as_bool,
    as_float,
    as_int,
    as_str,
    from_epoch_seconds,
    mapping,
)

PROTOCOLS = ("meterBus", "tcp", "rtu", "virtual", "P1")
"""The protocol blocks of a load; one of them is filled."""
STATUS_VALID = 1
"""Realtime `s` of a valid sample (assumed: any other value is not valid)."""

_TZ_OFFSET = re.compile(r"^\s*([+-])(\d{1,2}):?(\d{2})")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayDate:
    """The gateway's local clock (`GET /v1/date`)."""

    local: datetime | None
    """Local time, aware when the offset could be read."""
    tz: str | None
    """The zone as sent, e.g. "+01:00 CET"."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """A meter known to the gateway (`/v1/devices`)."""

    uid: int
    label: str | None
    part_number: str | None
    system: str | None
    """Wiring system as sent, e.g. "1P" or "3P"."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Load:
    """One measurement channel of a device (`/v1/loads`)."""

    uid: int
    label: str | None
    enable: bool
    device_uid: int | None
    index: int | None
    type: int | None
    protocol: str | None
    """The name of the filled protocol block, None when none is filled."""
    settings: Mapping[str, Any]
    """The filled protocol block, undocumented: for diagnostics only."""

    @property
    def main(self) -> bool:
        """Whether the gateway marks the load as the main (grid) meter.

        The one documented setting: `"meterBus": {"main": true}` on the load of
        the gateway's built-in meter at the grid connection.
        """
        return (
            self.protocol == "meterBus" and as_bool(self.settings.get("main")) is True
        )

    @property
    def grid(self) -> bool:
        """Whether the load measures the grid connection.

        That is the main meter, or a utility meter read over the P1 port.
        """
        return self.main or self.protocol == "P1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """One quantity of a load (`/v1/signals`)."""

    uid: int
    si: int | None
    """Signal-identifier code: what the quantity is (29 = voltage)."""
    sir: int | None
    """Second code of unknown meaning, kept for diagnostics."""
    enable: bool
    load_uid: int | None
    device_uid: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeSample:
    """The latest sample of a signal (`/v1/signals/realtime`)."""

    uid: int
    si: int | None
    value: float | None
    """Engineering units; None when malformed or the status is not valid."""
    timestamp: datetime | None
    """Sample time (sent as epoch ms)."""
    status: int | None
    reserved: Any
    """`r`, meaning unknown: passed through untouched."""

    @property
    def valid(self) -> bool:
        """Whether the gateway marked the sample valid."""
        return self.status == STATUS_VALID


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySample:
    """One recorded period of a signal (`/v1/signals/history`)."""

    uid: int
    timestamp: datetime | None
    """Sample time (sent as epoch s)."""
    period_end: datetime | None
    """End of the aggregation period (sent as epoch s)."""
    value: float | None
    delta: float | None
    """Increase over the period (counters)."""
    maximum: float | None
    minimum: float | None


def from_epoch_ms(value: Any) -> datetime | None:
    """Read an epoch-milliseconds timestamp (realtime samples)."""
    number = as_float(value)
    return None if number is None else from_epoch_seconds(number / 1000)


def parse_text(payload: Any, key: str) -> str | None:
    """Read one string field of a system endpoint (`{"sn": "..."}`)."""
    return as_str(mapping(payload).get(key))


def parse_date(payload: Any) -> GatewayDate:
    """Read `{"date": "2025-01-01 00:00:00", "tz": "+00:00 UTC"}`."""
    data = mapping(payload)
    tz = as_str(data.get("tz"))
    local: datetime | None = None
    text = as_str(data.get("date"))
    if text is not None:
        try:
            local = datetime.strptime(  # noqa: DTZ007 - the offset is in `tz`
                text.strip(), "%Y-%m-%d %H:%M:%S"
            )
        except ValueError:
            local = None
    match = _TZ_OFFSET.match(tz) if tz else None
    if local is not None and match is not None:
        sign = -1 if match.group(1) == "-" else 1
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if offset < timedelta(hours=24):
            local = local.replace(tzinfo=timezone(sign * offset))
    return GatewayDate(local=local, tz=tz)


def _records(payload: Any, key: str) -> list[tuple[int, Mapping[str, Any]]]:
    """Return the records of a UID-keyed map with their UID (record or key)."""
    records = []
    for uid_key, record in mapping(mapping(payload).get(key)).items():
        data = mapping(record)
        uid = as_int(data.get("uid"))
        if uid is None:
            uid = as_int(uid_key)
        if uid is not None and data:
            records.append((uid, data))
    return records


def parse_devices(payload: Any) -> dict[int, Device]:
    """Read `{"devices": {"1": {...}}}`."""
    return {
        uid: Device(
            uid=uid,
            label=as_str(data.get("label")),
            part_number=as_str(data.get("partNumber")),
            system=as_str(data.get("system")),
        )
        for uid, data in _records(payload, "devices")
    }


def parse_loads(payload: Any) -> dict[int, Load]:
    """Read `{"loads": {"2": {...}}}`."""
    loads = {}
    for uid, data in _records(payload, "loads"):
        protocol = next((name for name in PROTOCOLS if mapping(data.get(name))), None)
        loads[uid] = Load(
            uid=uid,
            label=as_str(data.get("label")),
            enable=as_bool(data.get("enable")) is not False,
            device_uid=as_int(data.get("did")),
            index=as_int(data.get("index")),
            type=as_int(data.get("type")),
            protocol=protocol,
            settings=dict(mapping(data.get(protocol))) if protocol else {},
        )
    return loads


def parse_signals(payload: Any) -> dict[int, Signal]:
    """Read `{"signals": {"100": {...}}}`."""
    return {
        uid: Signal(
            uid=uid,
            si=as_int(data.get("si")),
            sir=as_int(data.get("sir")),
            enable=as_bool(data.get("enable")) is not False,
            load_uid=as_int(data.get("lid")),
            device_uid=as_int(data.get("did")),
        )
        for uid, data in _records(payload, "signals")
    }


def realtime_sample(uid: int, data: Mapping[str, Any]) -> RealtimeSample:
    """Read one realtime record; the value is None unless the status is valid."""
    status = as_int(data.get("s"))
    return RealtimeSample(
        uid=uid,
        si=as_int(data.get("si")),
        value=as_float(data.get("v")) if status == STATUS_VALID else None,
        timestamp=from_epoch_ms(data.get("t")),
        status=status,
        reserved=data.get("r"),
    )


def parse_realtime(payload: Any) -> dict[int, RealtimeSample]:
    """Read `{"realtime": {"100": {...}}}`."""
    return {
        uid: realtime_sample(uid, data) for uid, data in _records(payload, "realtime")
    }


def history_sample(uid: int, data: Mapping[str, Any]) -> HistorySample:
    """Read one history row."""
    return HistorySample(
        uid=uid,
        timestamp=from_epoch_seconds(data.get("t")),
        period_end=from_epoch_seconds(data.get("p")),
        value=as_float(data.get("v")),
        delta=as_float(data.get("d")),
        maximum=as_float(data.get("max")),
        minimum=as_float(data.get("min")),
    )


def parse_history(payload: Any) -> dict[int, list[HistorySample]]:
    """Read `{"history": {"3": [{...}, ...]}}`, rows in time order."""
    history: dict[int, list[HistorySample]] = {}
    for key, rows in mapping(mapping(payload).get("history")).items():
        uid = as_int(key)
        if uid is None or not isinstance(rows, list):
            continue
        samples = [history_sample(uid, mapping(row)) for row in rows if mapping(row)]
        history[uid] = sorted(samples, key=_sort_key)
    return history


def _sort_key(sample: HistorySample) -> datetime:
    return sample.timestamp or datetime.min.replace(tzinfo=UTC)
