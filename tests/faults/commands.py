"""The command rows of the fault matrix: what a user sees when a command meets a fault.

A rig that controls something (a switch, a light) declares, per command fault,
how to cause it and what must follow: the command applied and shown, a
translated error (with the device's state unchanged), or no command at all
(the entity is unavailable and Home Assistant sends nothing).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum, auto

from homeassistant.core import HomeAssistant

from .matrix import Action, Rig, Skip


class CommandFault(StrEnum):
    """What can stand between a command and the device."""

    REFUSED = auto()
    """The device (or its hub) answers the command with a refusal (4xx and a reason)."""
    SLOW = auto()
    """The answer takes seconds, within the request's time limit."""
    LAN_GONE = auto()
    """The local path is gone; another one (a cloud relay) still works."""
    GONE = auto()
    """Nothing reaches the device any more (seen by the last update)."""
    DEVICE_UNREACHABLE = auto()
    """The gateway reports the device itself as unreachable."""


class CommandOutcome(StrEnum):
    """What the user must see."""

    APPLIED = auto()
    """The command goes through; the entity shows the device's new state."""
    REFUSED = auto()
    """A translated HomeAssistantError (`error_key`); the state stays."""
    NOT_SENT = auto()
    """The entity is unavailable: the action sends nothing and raises nothing."""


@dataclass(frozen=True, kw_only=True)
class CommandCell:
    """How a rig produces a command fault, and what must follow."""

    start: Action
    end: Action | None = None
    outcome: CommandOutcome
    error_key: str | None = None
    """The translation key of the error (REFUSED only)."""
    updates: int = 0
    """Update cycles to run after `start`, before the command."""


class CommandRig(Rig):
    """A rig whose device takes on/off commands through a switch entity."""

    @property
    @abstractmethod
    def commanded(self) -> str:
        """The switch entity the cells toggle."""

    @abstractmethod
    def device_is_on(self) -> bool:
        """Whether the simulated device is on now."""

    @abstractmethod
    def commands_received(self) -> int:
        """Commands the simulated device (or its hub) received so far."""

    @abstractmethod
    async def update(self, hass: HomeAssistant) -> None:
        """Run one update cycle now, as the timer would."""

    @abstractmethod
    def command_faults(self) -> Mapping[CommandFault, CommandCell | Skip]:
        """Every command fault: how to produce it here, or why it does not apply."""
