"""Repair issues the user sees on the Repairs dashboard, one per entry and kind.

`reboot_required_<entry_id>`: a setting was written that the device applies only
after a restart; the fix flow restarts the device.

Issues a device type raises about its connection (`<key>_<entry_id>`, e.g. the
Cozify relay refusing remote access) are not fixable here: their text says
what to do, and they go away by themselves once the cause is gone.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import probatio as vol

from .const import DOMAIN
from .runtime import DeviceRuntime
from .transport.errors import GatewayError

REBOOT_REQUIRED = "reboot_required"
ENTRY_ISSUES = ("relay_refused", "api_version")
"""Keys of the non-fixable issues device types raise about an entry."""


def reboot_issue_id(entry_id: str) -> str:
    """Return the id of an entry's "restart needed" issue."""
    return f"{REBOOT_REQUIRED}_{entry_id}"


@callback
def async_create_entry_issue(hass: HomeAssistant, entry: ConfigEntry, key: str) -> None:
    """Tell the user about a lasting problem of one entry (`issues.<key>` texts)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{key}_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={"name": entry.title},
    )


@callback
def async_delete_entry_issue(hass: HomeAssistant, entry_id: str, key: str) -> None:
    """Settle an entry's issue: its cause is gone."""
    ir.async_delete_issue(hass, DOMAIN, f"{key}_{entry_id}")


@callback
def async_create_reboot_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tell the user the device must restart before a change takes effect."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        reboot_issue_id(entry.entry_id),
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=REBOOT_REQUIRED,
        translation_placeholders={"name": entry.title},
        data={"entry_id": entry.entry_id},
    )


@callback
def async_delete_reboot_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Settle the issue: the device restarted, or the entry is gone."""
    ir.async_delete_issue(hass, DOMAIN, reboot_issue_id(entry_id))


@callback
def async_delete_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Drop every issue of a removed entry."""
    async_delete_reboot_issue(hass, entry_id)
    for key in ENTRY_ISSUES:
        async_delete_entry_issue(hass, entry_id, key)


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Create the fix flow of one of the integration's issues."""
    return RebootRequiredRepairFlow(str((data or {}).get("entry_id")))


class RebootRequiredRepairFlow(RepairsFlow):
    """Confirm, then restart the device so that a written setting applies."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Go to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Ask before restarting; a restart briefly interrupts the readings."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                runtime: DeviceRuntime[Any, Any] = entry.runtime_data
                await runtime.async_reboot()
            except GatewayError:
                errors["base"] = "cannot_connect"
            else:
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )
