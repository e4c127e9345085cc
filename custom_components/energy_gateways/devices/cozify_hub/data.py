"""What the coordinator knows about one Cozify Hub and the devices behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .models import CozifyDevice, DeviceState, HubMeta, Scene


@dataclass(frozen=True, slots=True)
class HubData:
    """One consistent picture of the hub; a new object whenever anything changed.

    The coordinator compares pictures (`always_update=False`): a poll that
    brought nothing new does not wake a single entity.
    """

    hub: HubMeta
    devices: Mapping[str, CozifyDevice]
    rooms: Mapping[str, str]
    scenes: Mapping[str, Scene]
    route: str
    """How the hub is reached right now: "local" (LAN) or "remote" (cloud relay)."""

    def state_of(self, device_id: str) -> DeviceState | None:
        """Return the state of a device the hub reports, or None."""
        device = self.devices.get(device_id)
        return device.state if device is not None else None

    def room_of(self, device: CozifyDevice) -> str | None:
        """Return the name of the device's room, if the hub has one for it."""
        return self.rooms.get(device.room) if device.room else None
