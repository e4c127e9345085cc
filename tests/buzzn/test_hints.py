"""BUZZN saving hints as a to-do list: ticking one off marks it read on the server.

Hints without an id cannot be marked read: their item says so and completing
it is refused with a translated error. The reference backend has no hints
(404): no to-do list then.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, cast

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.buzzn.data import BuzznData
from custom_components.energy_gateways.devices.buzzn.engagement import (
    HINTS_LIST,
    NO_ID_NOTE,
    hint_items,
)
from custom_components.energy_gateways.devices.buzzn.models import Hint
from simulators.buzzn import BuzznSimulator, simulator as buzzn_simulator_module

from .conftest import push

TODO = "todo.buzzn_erika_energy_saving_hints"

document = pytest.mark.parametrize("buzzn_simulator", ["document"], indirect=True)


async def _items(hass: HomeAssistant) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        "todo",
        "get_items",
        {"entity_id": TODO},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    result = response[TODO]
    assert isinstance(result, dict)
    return cast("list[dict[str, Any]]", result["items"])


async def _complete(hass: HomeAssistant, item: str) -> None:
    await hass.services.async_call(
        "todo",
        "update_item",
        {"entity_id": TODO, "item": item, "status": "completed"},
        blocking=True,
    )


@document
async def test_unread_hints_are_open_items(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Headline as summary, description as description; uid the id or a hash."""
    await push(buzzn_simulator, setup_buzzn)
    state = hass.states.get(TODO)
    assert state is not None
    assert state.state == "4"
    assert state.attributes["supported_features"] == 4  # UPDATE_TODO_ITEM only
    items = await _items(hass)
    assert [item["summary"] for item in items] == [
        "Standby vermeiden",
        "Kühlschrank prüfen",
        "Waschen bei 30 °C",
        "Licht aus",
    ]
    assert all(item["status"] == "needs_action" for item in items)
    assert [item["uid"] for item in items[:3]] == ["1", "2", "3"]
    assert items[0]["description"] == (
        "Schalte Geräte im Standby ganz aus: das spart bis zu 10 %."
    )
    without_id = items[3]
    assert without_id["uid"].startswith("text-")
    assert without_id["description"] == (
        f"Licht aus, wenn du den Raum verlässt.\n\n{NO_ID_NOTE}"
    )
    # The hash is stable: the same uid after another read.
    await setup_buzzn.runtime_data.coordinator.async_refresh_hints()
    assert (await _items(hass))[3]["uid"] == without_id["uid"]


@document
async def test_completing_an_item_marks_the_hint_read(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """By uid or by summary; the server no longer lists it, so the item goes."""
    await push(buzzn_simulator, setup_buzzn)
    await _complete(hass, "2")
    assert buzzn_simulator.hints_read == {2}
    await _complete(hass, "Standby vermeiden")
    assert buzzn_simulator.hints_read == {1, 2}
    items = await _items(hass)
    assert [item["uid"] for item in items][:1] == ["3"]
    assert len(items) == 2
    state = hass.states.get(TODO)
    assert state is not None
    assert state.state == "2"


@document
async def test_a_hint_without_id_cannot_be_completed(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """A translated error names the hint; the item stays, nothing is sent."""
    await push(buzzn_simulator, setup_buzzn)
    marks = sum(
        n for path, n in buzzn_simulator.requests.items() if path.startswith("/hint/")
    )
    with pytest.raises(HomeAssistantError) as err:
        await _complete(hass, "Licht aus")
    assert err.value.translation_key == "hint_without_id"
    assert err.value.translation_placeholders == {"hint": "Licht aus"}
    assert "cannot be marked as done" in str(err.value)
    assert marks == sum(
        n for path, n in buzzn_simulator.requests.items() if path.startswith("/hint/")
    )
    assert len(await _items(hass)) == 4


@document
async def test_other_changes_are_refused(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Renaming (or reopening) an item is not something the server knows."""
    await push(buzzn_simulator, setup_buzzn)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "todo",
            "update_item",
            {"entity_id": TODO, "item": "1", "rename": "Anders"},
            blocking=True,
        )
    assert err.value.translation_key == "todo_complete_only"
    assert buzzn_simulator.hints_read == set()
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "todo",
            "add_item",
            {"entity_id": TODO, "item": "Neu"},
            blocking=True,
        )


@document
async def test_a_new_hint_is_a_new_item(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It shows in the list at the next read; no notification is raised."""
    await push(buzzn_simulator, setup_buzzn)
    new = {"id": 9, "headline": "Deckel drauf", "description": "Koche mit Deckel."}
    monkeypatch.setattr(
        buzzn_simulator_module, "HINTS", (*buzzn_simulator_module.HINTS, new)
    )
    notified: list[Any] = []
    setup_buzzn.async_on_unload(
        persistent_notification.async_register_callback(
            hass, lambda *args: notified.append(args)
        )
    )
    await _complete(hass, "1")  # reads the list again
    await hass.async_block_till_done()
    items = await _items(hass)
    assert items[-1]["uid"] == "9"
    assert items[-1]["summary"] == "Deckel drauf"
    assert notified == []


@document
async def test_a_hint_gone_meanwhile_is_just_reread(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Completing an item the server no longer lists only refreshes the list."""
    await push(buzzn_simulator, setup_buzzn)
    buzzn_simulator.hints_read.add(3)  # read in the app
    await HINTS_LIST.complete_fn(setup_buzzn.runtime_data, "no-such-uid")
    assert buzzn_simulator.hints_read == {3}
    assert [item["uid"] for item in await _items(hass)][:2] == ["1", "2"]
    assert len(await _items(hass)) == 3


@pytest.mark.parametrize("buzzn_simulator", ["reference"], indirect=True)
async def test_no_hints_list_without_the_feature(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """The reference backend answers 404: no to-do list and no errors."""
    await push(buzzn_simulator, setup_buzzn)
    await setup_buzzn.runtime_data.coordinator.async_poll()
    await hass.async_block_till_done()
    assert entity_registry.async_get_entity_id("todo", DOMAIN, "1_hints") is None
    assert hass.states.get(TODO) is None
    assert "hints" in setup_buzzn.runtime_data.coordinator.client.absent
    assert buzzn_simulator.requests["/hints"] == 1
    records = [*caplog.get_records("setup"), *caplog.records]
    assert not [
        r
        for r in records
        if r.levelno >= logging.ERROR
        or (r.levelno >= logging.WARNING and r.name.startswith("custom_components"))
    ]


def test_hints_without_id_or_headline() -> None:
    """The same text twice is one item; a hint without headline is summed up by its text."""
    data = cast(
        "BuzznData",
        SimpleNamespace(
            hints=[
                Hint(None, "Licht aus", "Im Flur.", None),
                Hint(None, "Licht aus", "Im Bad.", None),
                Hint(None, None, "Nur Text.", None),
                Hint(7, None, "Mit Nummer.", None),
            ]
        ),
    )
    items = hint_items(data)
    assert [(item.summary, item.description) for item in items] == [
        ("Licht aus", f"Im Flur.\n\n{NO_ID_NOTE}"),
        ("Nur Text.", NO_ID_NOTE),
        ("Mit Nummer.", None),
    ]
    assert items[2].uid == "7"
    assert items[0].uid != items[1].uid
