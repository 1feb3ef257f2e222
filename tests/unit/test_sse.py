import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_vcr.framings import sse
from llm_vcr.framings.sse import SSEEvent, SSEParser

STREAM = (
    b": ping - keep-alive comment\r\n"
    b"event: delta\r\n"
    b"id: 7\r\n"
    b'data: {"a": 1}\r\n'
    b"\r\n"
    b"data: line one\n"
    b"data: line two\n"
    b"\n"
    b"data:no-space\r\r" + "data: caf\u00e9 \u2603\n\n".encode() + b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent(data='{"a": 1}', event="delta", id="7"),
    SSEEvent(data="line one\nline two"),
    SSEEvent(data="no-space"),
    SSEEvent(data="caf\u00e9 \u2603"),
    SSEEvent(data="[DONE]"),
]


def test_parse_whole_stream():
    assert sse.parse(STREAM) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_split_gives_the_same_events(size):
    parser = SSEParser()
    events = []
    for i in range(0, len(STREAM), size):
        events += parser.feed(STREAM[i : i + size])
    events += parser.finish()
    assert events == EXPECTED


def test_every_two_way_split():
    # Splits inside \r\n pairs and inside multi-byte UTF-8 sequences included.
    for cut in range(len(STREAM) + 1):
        parser = SSEParser()
        events = parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:]) + parser.finish()
        assert events == EXPECTED, cut


def test_event_is_only_complete_at_its_blank_line():
    parser = SSEParser()
    assert parser.feed(b'data: {"x": 1}\n') == []
    assert parser.has_partial_event
    assert parser.feed(b"\n") == [SSEEvent(data='{"x": 1}')]
    assert not parser.has_partial_event


def test_missing_final_blank_line_still_yields_the_event_at_finish():
    parser = SSEParser()
    assert parser.feed(b"data: last") == []
    assert parser.finish() == [SSEEvent(data="last")]


def test_comments_and_empty_events_are_not_events():
    assert sse.parse(b": ping\n\n: another\n\nevent: x\n\n") == []


def test_invalid_utf8_does_not_raise():
    (event,) = sse.parse(b"data: \xff\xfe ok\n\n")
    assert event.data.endswith(" ok")


def test_serialize_round_trip():
    for event in EXPECTED:
        assert sse.parse(sse.serialize(event)) == [event]


def test_frame_data():
    assert sse.frame_data(b'{"a":1}') == b'data: {"a":1}\n\n'
    assert sse.parse(sse.frame_data(b"[DONE]"))[0].is_done


# ---- properties (hypothesis) ------------------------------------------------------------------

# A line's text may hold anything but the line terminators; ids may not hold NUL either.
line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
events = st.builds(
    SSEEvent,
    data=st.lists(line_text, min_size=1, max_size=4).map("\n".join),
    event=st.none() | line_text,
    id=st.none() | line_text.filter(lambda s: "\0" not in s),
    retry=st.none() | st.integers(min_value=0, max_value=10**9),
)


def feed_in_pieces(raw: bytes, cuts: list[int]) -> list[SSEEvent]:
    parser, out, last = SSEParser(), [], 0
    for cut in sorted(c % (len(raw) + 1) for c in cuts):
        out += parser.feed(raw[last:cut])
        last = cut
    return out + parser.feed(raw[last:]) + parser.finish()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0), max_size=20))
def test_any_bytes_split_anywhere_never_raise(raw, cuts):
    for ev in feed_in_pieces(raw, cuts):
        assert isinstance(ev.data, str)
    assert feed_in_pieces(raw, cuts) == sse.parse(raw)  # splitting never changes the result


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=8), st.lists(st.integers(min_value=0), max_size=20))
def test_parse_after_serialize_is_identity_on_valid_events(evs, cuts):
    raw = b"".join(sse.serialize(e) for e in evs)
    assert feed_in_pieces(raw, cuts) == evs
