"""Incremental parser for server-sent events (the WHATWG event-stream format)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its name (default "message") and its data."""

    event: str
    data: str
    id: str | None = None


class SseDecoder:
    """Turns arbitrary chunks of an event stream into events.

    Chunks may split lines, line endings (CR LF) and even UTF-8 sequences anywhere;
    lines end in LF, CR or CR LF. An event that has not been terminated by a blank
    line when the stream ends is discarded, as the format requires, so a truncated
    frame never reaches the caller.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending_cr = False
        self._first_line = True
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume one chunk and return the events it completed."""
        text = self._utf8.decode(chunk)
        if self._pending_cr and text.startswith("\n"):
            # The CR that ended the previous chunk was half of a CR LF pair.
            text = text[1:]
        self._pending_cr = False
        self._buffer += text
        events: list[SseEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, width = cut
            line = self._buffer[:end]
            if (
                width == 1
                and self._buffer[end] == "\r"
                and end + 1 == len(self._buffer)
            ):
                # A CR at the very end may be followed by LF in the next chunk.
                self._pending_cr = True
            self._buffer = self._buffer[end + width :]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> SseEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment / keep-alive
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields are ignored: the client has its own backoff.
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(
            event=self._event or "message", data="\n".join(self._data), id=self._id
        )
        self._event = ""
        self._data = []
        return event


def _line_end(buffer: str) -> tuple[int, int] | None:
    """Position and width of the first line ending in `buffer`, if any."""
    lf = buffer.find("\n")
    cr = buffer.find("\r")
    if cr == -1 and lf == -1:
        return None
    if cr == -1 or (lf != -1 and lf < cr):
        return lf, 1
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return cr, 2
    return cr, 1


def encode_event(event: str, data: str) -> str:
    """Serialise one event; used by the simulators and by the parser's tests."""
    lines = "".join(f"data: {part}\n" for part in data.split("\n"))
    return f"event: {event}\n{lines}\n"
