"""Options forms of device types whose options are plain numbers and switches.

A device type lists its options once (`NumberOption`, `BooleanOption`); the form,
its validation and the values the runtime reads (`value()`, with the default
when the user never changed it) come from that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.helpers import selector
import probatio as vol


@dataclass(frozen=True, slots=True)
class NumberOption:
    """A whole number in a range, typed into a box."""

    key: str
    default: int
    minimum: int
    maximum: int
    unit: str

    def value(self, options: Mapping[str, Any]) -> int:
        """Return the entry's value, or the default."""
        return int(options.get(self.key, self.default))

    def field(self, options: Mapping[str, Any]) -> tuple[vol.Marker, Any]:
        """Return the form field, pre-filled with the entry's value."""
        return vol.Required(self.key, default=self.value(options)), vol.All(
            selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=self.minimum,
                    max=self.maximum,
                    step=1,
                    mode=selector.NumberSelectorMode.BOX,
                    unit_of_measurement=self.unit,
                )
            ),
            vol.Coerce(int),
            vol.Range(min=self.minimum, max=self.maximum),
        )


@dataclass(frozen=True, slots=True)
class BooleanOption:
    """An on/off switch."""

    key: str
    default: bool

    def value(self, options: Mapping[str, Any]) -> bool:
        """Return the entry's value, or the default."""
        return bool(options.get(self.key, self.default))

    def field(self, options: Mapping[str, Any]) -> tuple[vol.Marker, Any]:
        """Return the form field, pre-filled with the entry's value."""
        return vol.Required(
            self.key, default=self.value(options)
        ), selector.BooleanSelector()


type Option = NumberOption | BooleanOption


class DeviceOptionsFlow(OptionsFlowWithReload):
    """One form of a device type's options; the entry reloads with the new values.

    Subclasses set `STEP_ID` (`<device type>_options`: texts differ per device
    type) and `OPTIONS`, and route `async_step_<STEP_ID>` to `async_step_form`.
    """

    STEP_ID: ClassVar[str]
    OPTIONS: ClassVar[tuple[Option, ...]]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go to the device type's form."""
        return await self.async_step_form()

    async def async_step_form(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options; store them (keeping any others) when submitted."""
        options = self.config_entry.options
        if user_input is not None:
            return self.async_create_entry(data={**options, **user_input})
        return self.async_show_form(
            step_id=self.STEP_ID,
            data_schema=vol.Schema(
                dict(option.field(options) for option in self.OPTIONS)
            ),
        )
