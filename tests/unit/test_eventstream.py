"""AWS event streams: incremental, CRC-checked, byte-compatible with what `frame()` writes."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_vcr.framings import eventstream
from llm_vcr.framings.eventstream import EventStreamParser
from llm_vcr.framings.sse import SSEEvent

TEXTS = ["héllo", "世界 🙂", "plain", ""]  # multi-byte characters: a read may end inside one
DELTAS = [json.dumps({"delta": {"text": t}}, ensure_ascii=False).encode() for t in TEXTS]
MESSAGES = [eventstream.frame(d, "contentBlockDelta") for d in DELTAS]
MESSAGES.append(eventstream.frame(b'{"message": "throttled"}', "throttlingException", "exception"))
STREAM = b"".join(MESSAGES)
EXPECTED = [SSEEvent(json.dumps({"delta": {"text": t}}, ensure_ascii=False), "contentBlockDelta") for t in TEXTS] + [
    SSEEvent('{"message": "throttled"}', "throttlingException", "exception")
]


def parse_in_pieces(raw: bytes, cuts: list[int]) -> tuple[list[SSEEvent], list[str]]:
    parser, out, last = EventStreamParser(), [], 0
    for cut in sorted(c % (len(raw) + 1) for c in cuts):
        out += parser.feed(raw[last:cut])
        last = cut
    out += parser.feed(raw[last:]) + parser.finish()
    return out, parser.errors


def test_messages_parse_back_with_their_event_types_and_utf8_text():
    assert parse_in_pieces(STREAM, []) == (EXPECTED, [])


def test_every_two_way_split_gives_the_same_events():
    # Every cut, including those inside a multi-byte character, a prelude, headers or a CRC.
    for cut in range(len(STREAM) + 1):
        assert parse_in_pieces(STREAM, [cut]) == (EXPECTED, []), cut


def test_a_bad_message_crc_is_an_error_never_an_event():
    bad = bytearray(MESSAGES[0])
    bad[-6] ^= 0x01  # a payload byte: the message CRC no longer holds
    events, errors = parse_in_pieces(bytes(bad) + b"".join(MESSAGES[1:]), [])
    assert events == [] and errors == ["bad message CRC"]


def test_a_bad_prelude_crc_or_length_is_an_error():
    bad = bytearray(MESSAGES[0])
    bad[3] ^= 0x01  # the total length
    assert parse_in_pieces(bytes(bad), [])[1] == ["bad prelude CRC"]


def test_a_stream_cut_inside_a_message_is_an_error_after_the_complete_ones():
    events, errors = parse_in_pieces(STREAM[:-3], [7, 100])
    assert events == EXPECTED[:-1] and errors == [f"the stream ended inside a message ({len(MESSAGES[-1]) - 3} bytes)"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0), max_size=10))
def test_any_bytes_split_anywhere_never_raise(raw, cuts):
    events, _ = parse_in_pieces(raw, cuts)
    assert all(isinstance(e.data, str) for e in events)
    assert parse_in_pieces(raw, cuts) == parse_in_pieces(raw, [])  # splitting never changes the result
