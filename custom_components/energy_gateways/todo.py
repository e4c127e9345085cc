"""To-do platform: lists a device keeps (saving hints) whose items can be ticked off.

The device owns the list: items come from the data, and completing one asks the
device to mark it done (it then disappears with the next read). Items cannot be
added, renamed, reopened or deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.components.todo.entity import TodoItem, TodoListEntity
from homeassistant.const import Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
    ha_error,
)

# Completing an item is a write to the device: one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewayTodoEntityDescription[DataT](GatewayEntityDescription[DataT]):
    """How to read the open items and how to complete one."""

    items_fn: Callable[[DataT], list[TodoItem]]
    """The items, each with a `uid` that is stable while the item exists."""
    complete_fn: Callable[[Any, str], Awaitable[None]]
    """Called with the runtime and an item's uid; raises translated errors."""


class GatewayTodoList[DataT](GatewayEntity[DataT], TodoListEntity):
    """A to-do list whose items come from the device; completing is the only change."""

    entity_description: GatewayTodoEntityDescription[DataT]
    _attr_supported_features = TodoListEntityFeature.UPDATE_TODO_ITEM

    def _current_value(self, data: DataT) -> object:
        items = self._attr_todo_items = self.entity_description.items_fn(data)
        return tuple(items)

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Complete an item on the device; any other change is refused."""
        if item.status != TodoItemStatus.COMPLETED or item.uid is None:
            name = self.name if isinstance(self.name, str) else self.entity_id
            raise ha_error("todo_complete_only", name=name)
        await self.entity_description.complete_fn(self.runtime, item.uid)


async_setup_entry = described_platform_setup(
    Platform.TODO, GatewayTodoEntityDescription, GatewayTodoList
)
