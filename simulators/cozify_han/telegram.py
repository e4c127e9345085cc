"""DSMR / IEC 62056-21 style telegrams as the meter sends them over the H1 port."""

from datetime import UTC, datetime, timedelta, tzinfo

from .data import MeterReading


def crc16(data: bytes) -> int:
    """Return the CRC-16/ARC (poly 0xA001 reflected, init 0) used by P1/H1 telegrams."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _timestamp(ts_ms: int, zone: tzinfo) -> str:
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone)
    # S = summer time, W = winter (standard) time
    season = "S" if (moment.dst() or timedelta()) else "W"
    return moment.strftime("%y%m%d%H%M%S") + season


def _kilo(watts: float) -> str:
    return f"{watts / 1000:06.3f}"


def build_telegram(
    reading: MeterReading, identity: dict[str, str], zone: tzinfo
) -> str:
    """Return the telegram text (CRLF lines, ``!`` + CRC16) matching ``reading``."""
    manufacturer = identity.get("manufacturerId", "KFM")
    lines = [
        f"/{manufacturer}5KAIFA-METER",
        "",
        "1-3:0.2.8(42)",
        f"0-0:1.0.0({_timestamp(reading.ts_ms, zone)})",
        f"0-0:96.1.1({identity.get('meterId', '')})",
        f"1-0:1.8.0({reading.ic:010.3f}*kWh)",
        f"1-0:2.8.0({reading.ec:010.3f}*kWh)",
        f"1-0:3.8.0({reading.ric:010.3f}*kvarh)",
        f"1-0:4.8.0({reading.rec:010.3f}*kvarh)",
        f"1-0:1.7.0({_kilo(reading.pi[0])}*kW)",
        f"1-0:2.7.0({_kilo(reading.pe[0])}*kW)",
        f"1-0:3.7.0({_kilo(reading.ri[0])}*kvar)",
        f"1-0:4.7.0({_kilo(reading.re[0])}*kvar)",
    ]
    # OBIS phase groups: L1 = 21..32, L2 = 41..52, L3 = 61..72
    for phase, base in enumerate((20, 40, 60)[: len(reading.u)]):
        lines += [
            f"1-0:{base + 1}.7.0({_kilo(reading.pi[phase + 1])}*kW)",
            f"1-0:{base + 2}.7.0({_kilo(reading.pe[phase + 1])}*kW)",
            f"1-0:{base + 3}.7.0({_kilo(reading.ri[phase + 1])}*kvar)",
            f"1-0:{base + 4}.7.0({_kilo(reading.re[phase + 1])}*kvar)",
            f"1-0:{base + 12}.7.0({reading.u[phase]:05.1f}*V)",
            f"1-0:{base + 11}.7.0({reading.i[phase]:06.2f}*A)",
        ]
    body = "\r\n".join(lines) + "\r\n!"
    return f"{body}{crc16(body.encode('ascii')):04X}\r\n"
