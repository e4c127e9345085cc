"""Property-based tests of the event-stream parser."""

from __future__ import annotations

from hypothesis import given, strategies as st

from custom_components.energy_gateways.transport.sse import (
    SseDecoder,
    SseEvent,
    encode_event,
)

# Event names and data as servers send them: no line breaks in names, none but
# LF in data (CR would be a line break on the wire, by design of the format).
names = st.text(
    alphabet=st.characters(blacklist_characters="\r\n:", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=20,
).filter(lambda name: not name.startswith(" "))
data = st.text(
    alphabet=st.characters(blacklist_characters="\r", blacklist_categories=["Cs"]),
    max_size=200,
)
events = st.lists(st.tuples(names, data), max_size=8)
line_endings = st.sampled_from(["\n", "\r\n", "\r"])


def _split(payload: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(payload) + 1) for cut in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(payload[start:point])
        start = point
    pieces.append(payload[start:])
    return pieces


def _decode_all(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    out: list[SseEvent] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


@given(events, line_endings, st.lists(st.integers(min_value=0), max_size=12))
def test_round_trip_survives_any_chunking(
    sent: list[tuple[str, str]], ending: str, cuts: list[int]
) -> None:
    """Whatever the chunk boundaries and line endings, the same events come out."""
    wire = "".join(encode_event(name, body) for name, body in sent).replace(
        "\n", ending
    )
    received = _decode_all(_split(wire.encode(), cuts))
    assert [(event.event, event.data) for event in received] == sent


@given(events, st.integers(min_value=1, max_value=10_000))
def test_unterminated_event_is_never_dispatched(
    sent: list[tuple[str, str]], cut: int
) -> None:
    """A stream cut mid-event yields only the events completed before the cut."""
    wire = "".join(encode_event(name, body) for name, body in sent).encode()
    cut_at = cut % (len(wire) + 1)
    received = _decode_all([wire[:cut_at]])
    complete = wire[:cut_at].decode(errors="ignore").count("\n\n")
    assert len(received) == complete
    assert [(e.event, e.data) for e in received] == sent[:complete]


@given(st.binary(max_size=500), st.lists(st.integers(min_value=0), max_size=6))
def test_garbage_never_raises(garbage: bytes, cuts: list[int]) -> None:
    """Arbitrary bytes (invalid UTF-8 included) are parsed without an exception."""
    for event in _decode_all(_split(garbage, cuts)):
        assert isinstance(event.data, str)


def test_comments_ids_defaults_and_bom() -> None:
    """Comments are skipped, a nameless event is "message", ids are kept."""
    wire = (
        b"\xef\xbb\xbf: keep-alive\nid: 7\ndata: a\ndata: b\n\nretry: 10\nevent: x\n\n"
    )
    assert _decode_all([wire]) == [SseEvent(event="message", data="a\nb", id="7")]
