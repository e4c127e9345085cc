"""Which entities a HAN reader gets, and how each reads its value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfRatio,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
)
from homeassistant.util import dt as dt_util

from ...binary_sensor import GatewayBinarySensorEntityDescription
from ...button import GatewayButtonEntityDescription
from ...sensor import GatewaySensorEntityDescription, SensorValue
from ...update import GatewayUpdateEntityDescription
from . import firmware
from .data import HanData
from .models import FAILED, READY_TO_REBOOT, MeterReading

METER = "meter"
READER = "main"

type HanSensor = GatewaySensorEntityDescription[HanData]
type HanBinarySensor = GatewayBinarySensorEntityDescription[HanData]


def _has_meter(data: HanData) -> bool:
    return data.meter is not None


def _meter_value(
    read: Callable[[MeterReading], SensorValue],
) -> Callable[[HanData], SensorValue]:
    def value(data: HanData) -> SensorValue:
        return read(data.meter) if data.meter is not None else None

    return value


def _item(
    read: Callable[[MeterReading], tuple[float | None, ...]], index: int
) -> Callable[[MeterReading], float | None]:
    def item(reading: MeterReading) -> float | None:
        return read(reading)[index]

    return item


def _phase_sensors(
    key: str,
    read: Callable[[MeterReading], tuple[float | None, ...]],
    *,
    first_index: int,
    device_class: SensorDeviceClass,
    unit: str,
    precision: int,
    enabled: bool,
) -> list[HanSensor]:
    """Build one sensor per phase L1-L3 of an array (offset 1 after a total)."""
    return [
        GatewaySensorEntityDescription[HanData](
            key=f"{key}_l{phase}",
            translation_key=f"{key}_phase",
            translation_placeholders={"phase": f"L{phase}"},
            device=METER,
            device_class=device_class,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=unit,
            suggested_display_precision=precision,
            entity_registry_enabled_default=enabled,
            available_fn=_has_meter,
            value_fn=_meter_value(_item(read, first_index + phase - 1)),
        )
        for phase in (1, 2, 3)
    ]


def _power_sensors(
    key: str,
    read: Callable[[MeterReading], tuple[float | None, ...]],
    *,
    device_class: SensorDeviceClass,
    unit: str,
    total_enabled: bool,
    phases_enabled: bool,
) -> list[HanSensor]:
    """Build a total sensor from index 0 and per-phase sensors from 1-3."""
    total = GatewaySensorEntityDescription[HanData](
        key=key,
        translation_key=key,
        device=METER,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=0,
        entity_registry_enabled_default=total_enabled,
        available_fn=_has_meter,
        value_fn=_meter_value(_item(read, 0)),
    )
    return [
        total,
        *_phase_sensors(
            key,
            read,
            first_index=1,
            device_class=device_class,
            unit=unit,
            precision=0,
            enabled=phases_enabled,
        ),
    ]


def _energy_sensor(
    key: str,
    read: Callable[[MeterReading], float | None],
    *,
    device_class: SensorDeviceClass,
    unit: str,
    enabled: bool,
) -> HanSensor:
    return GatewaySensorEntityDescription[HanData](
        key=key,
        translation_key=key,
        device=METER,
        device_class=device_class,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=unit,
        suggested_display_precision=3,
        entity_registry_enabled_default=enabled,
        available_fn=_has_meter,
        value_fn=_meter_value(read),
    )


def _current_price(data: HanData) -> float | None:
    if data.prices is None:
        return None
    price = data.prices.price_at(datetime.now(UTC))
    # The reader quotes minor units (cents, öre) per kWh; HA prices are major units.
    return round(price / 100, 6) if price is not None else None


def _price_unit(data: HanData) -> str | None:
    currency = data.prices.currency if data.prices else None
    return f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}" if currency else None


SENSORS: tuple[HanSensor, ...] = (
    *_power_sensors(
        "power",
        lambda m: m.power,
        device_class=SensorDeviceClass.POWER,
        unit=UnitOfPower.WATT,
        total_enabled=True,
        phases_enabled=True,
    ),
    *_power_sensors(
        "power_import",
        lambda m: m.power_import,
        device_class=SensorDeviceClass.POWER,
        unit=UnitOfPower.WATT,
        total_enabled=True,
        phases_enabled=False,
    ),
    *_power_sensors(
        "power_export",
        lambda m: m.power_export,
        device_class=SensorDeviceClass.POWER,
        unit=UnitOfPower.WATT,
        total_enabled=True,
        phases_enabled=False,
    ),
    *(
        sensor
        for key, read in (
            ("reactive_power", lambda m: m.reactive_power),
            ("reactive_power_import", lambda m: m.reactive_power_import),
            ("reactive_power_export", lambda m: m.reactive_power_export),
        )
        for sensor in _power_sensors(
            key,
            read,
            device_class=SensorDeviceClass.REACTIVE_POWER,
            unit=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            total_enabled=False,
            phases_enabled=False,
        )
    ),
    *_phase_sensors(
        "voltage",
        lambda m: m.voltage,
        first_index=0,
        device_class=SensorDeviceClass.VOLTAGE,
        unit=UnitOfElectricPotential.VOLT,
        precision=1,
        enabled=False,
    ),
    *_phase_sensors(
        "current",
        lambda m: m.current,
        first_index=0,
        device_class=SensorDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
        precision=2,
        enabled=True,
    ),
    _energy_sensor(
        "energy_import",
        lambda m: m.energy_import,
        device_class=SensorDeviceClass.ENERGY,
        unit=UnitOfEnergy.KILO_WATT_HOUR,
        enabled=True,
    ),
    _energy_sensor(
        "energy_export",
        lambda m: m.energy_export,
        device_class=SensorDeviceClass.ENERGY,
        unit=UnitOfEnergy.KILO_WATT_HOUR,
        enabled=True,
    ),
    _energy_sensor(
        "reactive_energy_import",
        lambda m: m.reactive_energy_import,
        device_class=SensorDeviceClass.REACTIVE_ENERGY,
        unit=UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
        enabled=False,
    ),
    _energy_sensor(
        "reactive_energy_export",
        lambda m: m.reactive_energy_export,
        device_class=SensorDeviceClass.REACTIVE_ENERGY,
        unit=UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
        enabled=False,
    ),
    GatewaySensorEntityDescription[HanData](
        key="meter_timestamp",
        translation_key="meter_timestamp",
        device=METER,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        available_fn=_has_meter,
        value_fn=_meter_value(lambda m: m.timestamp),
    ),
    GatewaySensorEntityDescription[HanData](
        key="price",
        translation_key="price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        available_fn=lambda d: d.prices is not None,
        value_fn=_current_price,
        unit_fn=_price_unit,
        attributes_fn=lambda d: {"prices": d.prices.slot_list} if d.prices else None,
    ),
    GatewaySensorEntityDescription[HanData](
        key="wifi_rssi",
        translation_key="wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.health is not None,
        value_fn=lambda d: d.health.wifi_rssi if d.health else None,
    ),
    GatewaySensorEntityDescription[HanData](
        key="free_heap",
        translation_key="free_heap",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfRatio.PERCENTAGE,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.health is not None,
        value_fn=lambda d: d.health.free_heap_percent if d.health else None,
    ),
    GatewaySensorEntityDescription[HanData](
        key="last_restart",
        translation_key="last_restart",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.health is not None,
        value_fn=lambda d: d.boot_time,
    ),
    GatewaySensorEntityDescription[HanData](
        key="reset_reason",
        translation_key="reset_reason",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.health is not None,
        value_fn=lambda d: d.health.reset_reason if d.health else None,
    ),
    GatewaySensorEntityDescription[HanData](
        key="ethernet_ip",
        translation_key="ethernet_ip",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda d: d.info.eth_ip,
    ),
    GatewaySensorEntityDescription[HanData](
        key="wifi_ip",
        translation_key="wifi_ip",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda d: d.info.wifi_ip,
    ),
    GatewaySensorEntityDescription[HanData](
        key="update_channel",
        translation_key="update_channel",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda d: d.info.channel,
    ),
)

BINARY_SENSORS: tuple[HanBinarySensor, ...] = (
    GatewayBinarySensorEntityDescription[HanData](
        key="cloud_connection",
        translation_key="cloud_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda d: d.info.online,
    ),
    GatewayBinarySensorEntityDescription[HanData](
        key="reboot_pending",
        translation_key="reboot_pending",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        is_on_fn=lambda d: d.info.reboot_pending,
    ),
)


def _latest_version(data: HanData) -> str | None:
    """Return the version on offer or staged, else the installed one."""
    ota = data.ota
    if ota is not None and ota.status in OFFERING:
        return ota.staged_version or ota.version or data.info.version
    return data.info.version


def _release_summary(data: HanData) -> str | None:
    ota = data.ota
    if ota is None or ota.status not in OFFERING:
        return None
    flags = [
        label
        for label, on in (("Critical", ota.critical), ("Forced", ota.forced))
        if on
    ]
    notes = ota.release_notes or ""
    return f"{' · '.join(flags)}: {notes}" if flags else notes or None


def _firmware_attributes(data: HanData) -> dict[str, Any]:
    firmware = data.firmware
    ota = data.ota
    return {
        "commit": firmware.commit if firmware else None,
        "active_slot": firmware.active_slot if firmware else None,
        "ota_status": ota.status if ota else None,
        "ota_error": ota.error if ota else None,
        "critical": ota.critical if ota else None,
    }


# While the reader offers, downloads, stages or installs an image.
OFFERING = frozenset(
    {
        "UPDATE_AVAILABLE",
        "DOWNLOAD_IN_PROGRESS",
        "VALIDATING",
        "INSTALL_IN_PROGRESS",
        "READY_TO_REBOOT",
        "REBOOTING",
        "FAILED",
    }
)

UPDATES: tuple[GatewayUpdateEntityDescription[HanData], ...] = (
    GatewayUpdateEntityDescription[HanData](
        key="firmware",
        translation_key="firmware",
        installed_version_fn=lambda d: d.info.version,
        latest_version_fn=_latest_version,
        in_progress_fn=lambda d: (
            d.uploading_firmware or d.installing_firmware or firmware.installing(d.ota)
        ),
        progress_fn=lambda d: d.ota.progress if d.ota else None,
        release_summary_fn=_release_summary,
        release_url_fn=lambda d: d.ota.release_notes_url if d.ota else None,
        release_notes_fn=lambda d: d.ota.release_notes if d.ota else None,
        attributes_fn=_firmware_attributes,
        install_fn=lambda runtime: firmware.async_install(runtime.coordinator),
    ),
)

BUTTONS: tuple[GatewayButtonEntityDescription[HanData], ...] = (
    GatewayButtonEntityDescription[HanData](
        key="restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda runtime: firmware.async_restart(runtime.coordinator),
    ),
    # The update entity installs (and activates a staged image) and clears a
    # failed update first; these two buttons only act now and then, so they
    # stay off the device page unless a user enables them.
    GatewayButtonEntityDescription[HanData](
        key="activate_firmware",
        translation_key="activate_firmware",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.ota is not None and d.ota.status == READY_TO_REBOOT,
        press_fn=lambda runtime: firmware.async_activate(runtime.coordinator),
    ),
    GatewayButtonEntityDescription[HanData](
        key="clear_firmware_failure",
        translation_key="clear_firmware_failure",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        available_fn=lambda d: d.ota is not None and d.ota.status == FAILED,
        press_fn=lambda runtime: firmware.async_clear_failure(runtime.coordinator),
    ),
)


def _today_prices(data: HanData) -> list[float]:
    """Prices (minor units) of the slots that start today, local time."""
    if data.prices is None:
        return []
    start = dt_util.start_of_local_day()
    end = start + timedelta(days=1)
    return [slot.price for slot in data.prices.slots if start <= slot.start < end]


def _major(price: float | None) -> float | None:
    return round(price / 100, 6) if price is not None else None


def _next_price(data: HanData) -> float | None:
    if data.prices is None:
        return None
    now = datetime.now(UTC)
    upcoming = (slot.price for slot in data.prices.slots if slot.start > now)
    return _major(next(upcoming, None))


def _price_sensor(key: str, value: Callable[[HanData], float | None]) -> HanSensor:
    return GatewaySensorEntityDescription[HanData](
        key=key,
        translation_key=key,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        available_fn=lambda d: d.prices is not None,
        value_fn=value,
        unit_fn=_price_unit,
    )


PRICE_SENSORS: tuple[HanSensor, ...] = (
    _price_sensor("next_price", _next_price),
    _price_sensor(
        "today_lowest_price", lambda d: _major(min(_today_prices(d), default=None))
    ),
    _price_sensor(
        "today_highest_price", lambda d: _major(max(_today_prices(d), default=None))
    ),
    _price_sensor(
        "today_average_price",
        lambda d: _major(sum(p) / len(p)) if (p := _today_prices(d)) else None,
    ),
)


def _estimated_cost(key: str) -> Callable[[HanData], float | None]:
    def value(data: HanData) -> float | None:
        cost = data.compact.estimated_cost.get(key) if data.compact else None
        return _major(cost)

    return value


def _has_cost(key: str) -> Callable[[HanData], bool]:
    # "Where present": firmware that sends no such figure gets no value.
    return lambda d: d.compact is not None and key in d.compact.estimated_cost


COST_SENSORS: tuple[HanSensor, ...] = tuple(
    GatewaySensorEntityDescription[HanData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        available_fn=_has_cost(field),
        value_fn=_estimated_cost(field),
        unit_fn=lambda d: d.compact.currency if d.compact else None,
    )
    for field, key in (
        ("h", "estimated_cost_hour"),
        ("d", "estimated_cost_today"),
        ("m", "estimated_cost_month"),
    )
)
