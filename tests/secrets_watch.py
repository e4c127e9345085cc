"""Collects what a test exposes and finds the simulators' secrets in it.

The suite-wide autouse fixture `secrets_watch` (tests/conftest.py) runs one
`SecretWatch` around every test. It sees:
- every log record of every logger, the integration's at debug level too, with
  its traceback;
- every diagnostics dump the integration produces;
- every exception message the integration's errors and Home Assistant's
  errors carry (arguments and translation placeholders);
- every state and state attribute Home Assistant creates.
The secrets are what the simulators remembered (`simulators.secrets`):
account passwords, tokens, one-time codes, WiFi passwords, secret e-mail
addresses. A device type added later is covered without extra work as long as
its simulator remembers what it issues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
import functools
import json
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.core import State
from homeassistant.exceptions import HomeAssistantError

from custom_components.energy_gateways import diagnostics
from custom_components.energy_gateways.transport.errors import GatewayError
from simulators import secrets

INTEGRATION_LOGGER = "custom_components.energy_gateways"


class _Collector(logging.Handler):
    """Keeps every record's full text (message and traceback)."""

    def __init__(self, texts: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self._texts = texts
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a broken record is not this watch's business
            return
        self._texts.append(("log", text))


class SecretWatch:
    """What one test exposed, and the secrets found in it."""

    def __init__(self) -> None:
        self._texts: list[tuple[str, str]] = []
        self._states: list[State] = []

    def note(self, surface: str, text: str) -> None:
        """Add something the test exposed by another way."""
        self._texts.append((surface, text))

    def leaks(self) -> list[str]:
        """Where each known secret appeared: "surface: secret…" lines."""
        known = secrets.known()
        if not known:
            return []
        texts = [*self._texts, *self._state_texts()]
        found = []
        for surface, text in texts:
            found.extend(
                f"{surface}: {secret[:3]}… in {text[:300]!r}"
                for secret in known
                if secret in text
            )
        return found

    def forget(self) -> None:
        """Drop what was collected so far (a test that leaks on purpose)."""
        self._texts.clear()
        self._states.clear()

    def _state_texts(self) -> Iterator[tuple[str, str]]:
        for state in self._states:
            yield (
                f"state {state.entity_id}",
                f"{state.state} {json.dumps(dict(state.attributes), default=str)}",
            )

    @contextmanager
    def watching(self) -> Iterator[SecretWatch]:
        """Collect while the block runs."""
        secrets.forget_all()
        with ExitStack() as stack:
            stack.enter_context(self._logs())
            stack.enter_context(self._diagnostics())
            stack.enter_context(self._errors(GatewayError))
            stack.enter_context(self._errors(HomeAssistantError))
            stack.enter_context(self._states_created())
            yield self

    @contextmanager
    def _logs(self) -> Iterator[None]:
        root = logging.getLogger()
        integration = logging.getLogger(INTEGRATION_LOGGER)
        handler = _Collector(self._texts)
        level = integration.level
        integration.setLevel(logging.DEBUG)
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)
            integration.setLevel(level)

    @contextmanager
    def _diagnostics(self) -> Iterator[None]:
        original = diagnostics.async_get_config_entry_diagnostics

        @functools.wraps(original)
        async def recorded(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            self.note("diagnostics", json.dumps(result, default=str))
            return result

        with patch.object(diagnostics, "async_get_config_entry_diagnostics", recorded):
            yield

    @contextmanager
    def _errors(self, error_class: type[Exception]) -> Iterator[None]:
        original: Callable[..., None] = error_class.__init__
        note = self.note

        @functools.wraps(original)
        def recorded(error: Exception, *args: Any, **kwargs: Any) -> None:
            original(error, *args, **kwargs)
            placeholders = kwargs.get("translation_placeholders") or {}
            note(
                f"exception {type(error).__name__}",
                f"{args!r} {json.dumps(placeholders, default=str)}",
            )

        with patch.object(error_class, "__init__", recorded):
            yield

    @contextmanager
    def _states_created(self) -> Iterator[None]:
        original = State.__init__
        states = self._states

        @functools.wraps(original)
        def recorded(state: State, *args: Any, **kwargs: Any) -> None:
            original(state, *args, **kwargs)
            states.append(state)

        with patch.object(State, "__init__", recorded):
            yield
