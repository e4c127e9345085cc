"""The reader's configuration as select, number and switch entities.

Each entity writes only its own key (`POST /configuration`, nested for the meter's
main fuse) and shows what the reader reports back, never a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import NumberDeviceClass, NumberMode
from homeassistant.const import EntityCategory, UnitOfElectricCurrent, UnitOfEnergy

from ...number import GatewayNumberEntityDescription
from ...select import GatewaySelectEntityDescription
from ...switch import GatewaySwitchEntityDescription
from .data import HanData
from .models import Configuration

if TYPE_CHECKING:
    from .runtime import HanRuntime

# The seed's enums; `/definitions` replaces the last three where the reader has it.
UPDATE_POLICIES = ("automatic", "download", "manual")
NETWORK_POLICIES = ("auto", "eth", "sta", "eth_sta")
PRICE_AREAS = ("FI", "EE", "SE1", "SE2", "SE3", "SE4")
CURRENCIES = (
    *("EUR", "SEK", "NOK", "DKK", "GBP", "PLN"),
    *("CZK", "HUF", "RON", "BGN", "CHF", "ISK"),
)


def _configured(data: HanData) -> bool:
    return data.configuration is not None


def _read[T](
    read: Callable[[Configuration], T | None],
) -> Callable[[HanData], T | None]:
    def value(data: HanData) -> T | None:
        return read(data.configuration) if data.configuration is not None else None

    return value


def _write[T](
    *path: str, convert: Callable[[T], Any] = lambda value: value
) -> Callable[[HanRuntime, T], Awaitable[None]]:
    """Write one configuration key; `path` nests it, e.g. ("m", "f")."""

    def write(runtime: HanRuntime, value: T) -> Awaitable[None]:
        changes: dict[str, Any] = {path[-1]: convert(value)}
        for key in reversed(path[:-1]):
            changes = {key: changes}
        return runtime.coordinator.async_set_configuration(changes)

    return write


def _choices(
    defined: Callable[[HanData], Sequence[str]],
    fallback: Sequence[str],
    current: Callable[[Configuration], str | None],
) -> Callable[[HanData], list[str]]:
    """Offer the reader's definitions (else `fallback`) and the current value."""

    def options(data: HanData) -> list[str]:
        choices = list(defined(data) or fallback)
        value = current(data.configuration) if data.configuration else None
        if value is not None and value not in choices:
            choices.append(value)
        return choices

    return options


def _fixed_price(configuration: Configuration) -> float | None:
    price = configuration.fixed_price
    # The reader stores minor units (cents, öre) per kWh; HA shows major units.
    return round(price / 100, 6) if price is not None else None


def _price_unit(data: HanData) -> str | None:
    currency = data.configuration.currency if data.configuration else None
    return f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}" if currency else None


SELECTS: tuple[GatewaySelectEntityDescription[HanData], ...] = (
    GatewaySelectEntityDescription[HanData](
        key="update_policy",
        translation_key="update_policy",
        entity_category=EntityCategory.CONFIG,
        options=list(UPDATE_POLICIES),
        available_fn=_configured,
        value_fn=_read(lambda c: c.update_policy),
        select_fn=_write("up"),
    ),
    GatewaySelectEntityDescription[HanData](
        key="network_policy",
        translation_key="network_policy",
        entity_category=EntityCategory.CONFIG,
        # A wrong choice (WiFi only, before WiFi is set up) cuts the reader off.
        entity_registry_enabled_default=False,
        options=list(NETWORK_POLICIES),
        available_fn=_configured,
        value_fn=_read(lambda c: c.network_policy),
        select_fn=_write("np"),
    ),
    GatewaySelectEntityDescription[HanData](
        key="price_area",
        translation_key="price_area",
        entity_category=EntityCategory.CONFIG,
        available_fn=_configured,
        options_fn=_choices(
            lambda d: d.definitions.price_areas if d.definitions else (),
            PRICE_AREAS,
            lambda c: c.price_area,
        ),
        value_fn=_read(lambda c: c.price_area),
        select_fn=_write("pa"),
    ),
    GatewaySelectEntityDescription[HanData](
        key="currency",
        translation_key="currency",
        entity_category=EntityCategory.CONFIG,
        available_fn=_configured,
        options_fn=_choices(
            lambda d: d.definitions.currencies if d.definitions else (),
            CURRENCIES,
            lambda c: c.currency,
        ),
        value_fn=_read(lambda c: c.currency),
        select_fn=_write("pc"),
    ),
    GatewaySelectEntityDescription[HanData](
        key="timezone",
        translation_key="timezone",
        entity_category=EntityCategory.CONFIG,
        available_fn=_configured,
        options_fn=_choices(
            lambda d: d.definitions.timezones if d.definitions else (),
            (),
            lambda c: c.timezone,
        ),
        value_fn=_read(lambda c: c.timezone),
        select_fn=_write("t"),
    ),
)

NUMBERS: tuple[GatewayNumberEntityDescription[HanData], ...] = (
    # Same key as the diagnostic main-fuse sensor; unique ids are per platform.
    GatewayNumberEntityDescription[HanData](
        key="main_fuse",
        translation_key="main_fuse",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=1,
        native_max_value=250,
        native_step=1,
        mode=NumberMode.BOX,
        available_fn=_configured,
        value_fn=_read(lambda c: c.main_fuse),
        set_fn=_write("m", "f", convert=lambda value: round(value)),
    ),
    GatewayNumberEntityDescription[HanData](
        key="fixed_price",
        translation_key="fixed_price",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=1000,
        native_step=0.0001,
        mode=NumberMode.BOX,
        available_fn=_configured,
        value_fn=_read(_fixed_price),
        unit_fn=_price_unit,
        set_fn=_write("p", convert=lambda value: round(value * 100, 6)),
    ),
)

SWITCHES: tuple[GatewaySwitchEntityDescription[HanData], ...] = (
    GatewaySwitchEntityDescription[HanData](
        key="use_spot_price",
        translation_key="use_spot_price",
        entity_category=EntityCategory.CONFIG,
        available_fn=_configured,
        is_on_fn=_read(lambda c: c.use_spot_price),
        set_fn=_write("s"),
    ),
    GatewaySwitchEntityDescription[HanData](
        key="reboot_on_cloud_failure",
        translation_key="reboot_on_cloud_failure",
        entity_category=EntityCategory.CONFIG,
        available_fn=_configured,
        is_on_fn=_read(lambda c: c.reboot_on_cloud_failure),
        set_fn=_write("bhf"),
    ),
)
