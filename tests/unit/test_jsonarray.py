"""Streamed JSON arrays (Gemini without alt=sse): elements complete at their closing brace, however split."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_vcr.framings import jsonarray
from llm_vcr.framings.jsonarray import JSONArrayParser

ITEMS = [{"text": "héllo 世界 🙂"}, {"text": 'braces } ] { [ and "quotes" \\ inside'}, {"n": [1, {"a": []}]}]
RAW = [json.dumps(i, ensure_ascii=False).encode() for i in ITEMS]
STREAM = b"".join(jsonarray.frame(RAW))


def parse_in_pieces(raw: bytes, cuts: list[int]) -> tuple[list[str], JSONArrayParser]:
    parser, out, last = JSONArrayParser(), [], 0
    for cut in sorted(c % (len(raw) + 1) for c in cuts):
        out += parser.feed(raw[last:cut])
        last = cut
    out += parser.feed(raw[last:]) + parser.finish()
    return [e.data for e in out], parser


def test_elements_come_out_whole_with_their_text():
    data, parser = parse_in_pieces(STREAM, [])
    assert [json.loads(d) for d in data] == ITEMS and parser.complete


def test_every_two_way_split_gives_the_same_elements():
    for cut in range(len(STREAM) + 1):  # inside strings, escapes and multi-byte characters too
        data, parser = parse_in_pieces(STREAM, [cut])
        assert [json.loads(d) for d in data] == ITEMS and parser.complete, cut


def test_a_stream_cut_before_the_closing_bracket_is_not_complete():
    data, parser = parse_in_pieces(STREAM[:-1], [])
    assert [json.loads(d) for d in data] == ITEMS and not parser.complete
    cut_inside = STREAM[: STREAM.index(RAW[2]) + 5]
    data, parser = parse_in_pieces(cut_inside, [3])
    assert len(data) == 3 and not parser.complete
    with pytest.raises(json.JSONDecodeError):
        json.loads(data[-1])  # the cut element is kept, unterminated: never taken for a whole one


def test_a_body_that_is_not_an_array_is_refused():
    with pytest.raises(ValueError, match="starts with"):
        JSONArrayParser().feed(b'{"not": "an array"}')


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=3), max_size=5),
       st.lists(st.integers(min_value=0), max_size=10))  # fmt: skip
def test_frame_then_parse_is_identity(items, cuts):
    raw = b"".join(jsonarray.frame([json.dumps(i, ensure_ascii=False).encode() for i in items]))
    data, parser = parse_in_pieces(raw, cuts)
    assert [json.loads(d) for d in data] == items and parser.complete
