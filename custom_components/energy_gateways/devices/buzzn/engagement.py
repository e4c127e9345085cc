"""Challenges and saving hints: the seed's optional features, as entities.

The reference backend has neither (404 at the first refresh); then none of
these entities exist. A challenge is started only by choosing it in the select:
the server's start endpoint is a GET with a side effect, never polled. Hints
are the items of a to-do list; ticking one off marks it read on the server,
which then no longer lists it. A new hint is just a new item (no notification).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from hashlib import sha256
from typing import TYPE_CHECKING

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.components.todo.const import TodoItemStatus
from homeassistant.components.todo.entity import TodoItem
from homeassistant.const import Platform, UnitOfEnergy

from ...button import GatewayButtonEntityDescription
from ...entity import GatewayEntityDescription, device_errors_as_ha_errors, ha_error
from ...select import GatewaySelectEntityDescription
from ...sensor import GatewaySensorEntityDescription
from ...todo import GatewayTodoEntityDescription
from .client import FEATURE_CHALLENGES, FEATURE_HINTS
from .data import BuzznData
from .models import CHALLENGE_STATES, Challenge, Hint

if TYPE_CHECKING:
    from .runtime import BuzznRuntime

NO_CHALLENGE = "none"
STATUS_OPTIONS = [NO_CHALLENGE, *CHALLENGE_STATES]
NO_ID_NOTE = "(This hint cannot be marked as done: the server gives it no id.)"
"""Appended to such hints' descriptions; item texts cannot be translated."""


# -- challenges ---------------------------------------------------------------


def challenge_options(challenges: Sequence[Challenge]) -> dict[str, Challenge]:
    """Return the select's options: each challenge's name, made unique with its id."""
    options: dict[str, Challenge] = {}
    for challenge in challenges:
        label = challenge.name or f"#{challenge.id}"
        if label in options:
            label = f"{label} (#{challenge.id})"
        options.setdefault(label, challenge)
    return options


def _current_option(data: BuzznData) -> str | None:
    """Return the name of the running (or ended, not acknowledged) challenge."""
    status = data.challenge
    if status is None or status.id is None:
        return None
    for label, challenge in challenge_options(data.challenges).items():
        if challenge.id == status.id:
            return label
    return None


def _status(data: BuzznData) -> str | None:
    if data.challenge is None:
        return NO_CHALLENGE
    return data.challenge.status


async def _act(
    runtime: BuzznRuntime,
    action: Callable[[], Awaitable[None]],
    refresh: Callable[[], Awaitable[None]],
) -> None:
    """Send an action, then read back what it changed (also when refused)."""
    async with device_errors_as_ha_errors(runtime.coordinator.client.base_url):
        try:
            await action()
        finally:
            await refresh()


async def _start(runtime: BuzznRuntime, option: str) -> None:
    coordinator = runtime.coordinator
    client = coordinator.client
    challenge = challenge_options(coordinator.data.challenges).get(option)
    if challenge is None:
        raise ha_error(
            "rejected", host=client.base_url, reason=f"unknown challenge {option!r}"
        )
    status = coordinator.data.challenge
    if status is not None and status.id == challenge.id and status.status == "running":
        # Starting it again could reset its progress on the server.
        return
    await _act(
        runtime,
        lambda: client.start_challenge(challenge.id),
        coordinator.async_refresh_challenges,
    )


async def _quit(runtime: BuzznRuntime) -> None:
    coordinator = runtime.coordinator
    status = coordinator.data.challenge
    if status is None or status.id is None:
        return
    challenge_id = status.id
    await _act(
        runtime,
        lambda: coordinator.client.quit_challenge(challenge_id),
        coordinator.async_refresh_challenges,
    )


CHALLENGE_SELECT = GatewaySelectEntityDescription[BuzznData](
    key="challenge",
    translation_key="challenge",
    options_fn=lambda d: list(challenge_options(d.challenges)),
    value_fn=_current_option,
    select_fn=_start,
)
QUIT_BUTTON = GatewayButtonEntityDescription[BuzznData](
    key="quit_challenge",
    translation_key="quit_challenge",
    available_fn=lambda d: d.challenge is not None and d.challenge.id is not None,
    press_fn=_quit,
)
CHALLENGE_SENSORS: tuple[GatewaySensorEntityDescription[BuzznData], ...] = (
    GatewaySensorEntityDescription[BuzznData](
        key="challenge_status",
        translation_key="challenge_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=_status,
    ),
    GatewaySensorEntityDescription[BuzznData](
        key="challenge_progress",
        translation_key="challenge_progress",
        # As delivered: the seed calls it the distance to the target, usually kWh.
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda d: d.challenge.progress if d.challenge else None,
    ),
    GatewaySensorEntityDescription[BuzznData](
        key="challenge_end",
        translation_key="challenge_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda d: d.challenge.ends_at if d.challenge else None,
    ),
)


# -- hints --------------------------------------------------------------------


def hint_uid(hint: Hint) -> str:
    """Return the item's uid: the hint's id, else a hash of its text."""
    if hint.id is not None:
        return str(hint.id)
    text = hint.headline or hint.description or ""
    return "text-" + sha256(text.encode()).hexdigest()[:16]


def hint_items(data: BuzznData) -> list[TodoItem]:
    """One open item per listed (unread) hint."""
    items: list[TodoItem] = []
    seen: set[str] = set()
    for hint in data.hints:
        uid = hint_uid(hint)
        if uid in seen:
            continue
        seen.add(uid)
        summary = hint.headline or hint.description
        description = hint.description if hint.headline else None
        if hint.id is None:
            description = (
                f"{description}\n\n{NO_ID_NOTE}" if description else NO_ID_NOTE
            )
        items.append(
            TodoItem(
                summary=summary,
                uid=uid,
                status=TodoItemStatus.NEEDS_ACTION,
                description=description,
            )
        )
    return items


async def _complete_hint(runtime: BuzznRuntime, uid: str) -> None:
    coordinator = runtime.coordinator
    hint = next((h for h in coordinator.data.hints if hint_uid(h) == uid), None)
    if hint is None:
        # Gone from the list meanwhile: show the list as it is now.
        await coordinator.async_refresh_hints()
        return
    hint_id = hint.id
    if hint_id is None:
        raise ha_error("hint_without_id", hint=hint.headline or hint.description or "")
    await _act(
        runtime,
        lambda: coordinator.client.mark_hint_read(hint_id),
        coordinator.async_refresh_hints,
    )


HINTS_LIST = GatewayTodoEntityDescription[BuzznData](
    key="hints",
    translation_key="hints",
    items_fn=hint_items,
    complete_fn=_complete_hint,
)


def optional_descriptions(
    platform: Platform, absent: frozenset[str]
) -> Sequence[GatewayEntityDescription[BuzznData]]:
    """Describe the entities of the optional features the server offers."""
    challenges = FEATURE_CHALLENGES not in absent
    if platform is Platform.SELECT and challenges:
        return (CHALLENGE_SELECT,)
    if platform is Platform.BUTTON and challenges:
        return (QUIT_BUTTON,)
    if platform is Platform.SENSOR and challenges:
        return CHALLENGE_SENSORS
    if platform is Platform.TODO and FEATURE_HINTS not in absent:
        return (HINTS_LIST,)
    return ()
