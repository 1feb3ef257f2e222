import gzip
import zlib

import brotli
import pytest
from mitmproxy.net import encoding

from llm_vcr import bodies


@pytest.mark.parametrize("ce", ["gzip", "deflate", "br", "zstd"])
def test_decode_matches_mitmproxy_within_the_limit(ce):
    data = b'{"a": "' + b"x" * 10_000 + b'"}'
    assert bodies.decode(encoding.encode(data, ce), ce, limit=20_000) == data


@pytest.mark.parametrize("ce", ["gzip", "deflate", "br", "zstd"])
def test_decode_stops_at_the_limit(ce):
    data = b"0" * 5_000_000
    with pytest.raises(bodies.BodyTooLarge, match="inflates past"):
        bodies.decode(encoding.encode(data, ce), ce, limit=1_000_000)


def test_raw_deflate_stacked_encodings_and_errors():
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = raw.compress(b"hello") + raw.flush()
    assert bodies.decode(data, "deflate") == b"hello"
    assert bodies.decode(brotli.compress(gzip.compress(b"hi")), "gzip, br") == b"hi"
    with pytest.raises(ValueError, match="unknown content-encoding"):
        bodies.decode(b"x", "lzma")
    with pytest.raises(ValueError, match="cannot decode the gzip body"):
        bodies.decode(b"not gzip", "gzip")
    assert bodies.decode(b"plain", None) == b"plain" and bodies.decode(b"plain", "identity") == b"plain"
    with pytest.raises(bodies.BodyTooLarge):
        bodies.decode(b"123456", None, limit=5)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_non_finite_numbers_are_not_json(literal):
    with pytest.raises(ValueError):
        bodies.request_json(f'{{"t": {literal}}}'.encode())


def test_big_integers_are_kept_exactly_where_stored_and_key_alike_everywhere():
    from llm_vcr.apis import CHAT
    from llm_vcr.matching.keys import request_key

    raw = b'{"n": 123456789012345678901234567890}'
    exact = bodies.request_json(raw, exact=True)
    assert exact == {"n": 123456789012345678901234567890}  # recordings hold the data as sent
    assert bodies.dumps(exact) == b'{"n":123456789012345678901234567890}'
    assert bodies.dumps(exact, pretty=True) == b'{\n  "n": 123456789012345678901234567890\n}\n'
    fast = bodies.request_json(raw)  # the hot path (orjson): a float, and the same key
    assert request_key("POST", CHAT, fast) == request_key("POST", CHAT, exact)


def test_absurd_nesting_is_a_clear_error_where_it_is_walked():
    from llm_vcr.apis import CHAT
    from llm_vcr.matching.request import prepare

    assert bodies.request_json(b"") is None
    for depth in (300, 5000, 100_000):
        with pytest.raises(ValueError, match="nested deeper"):
            prepare("POST", CHAT, b'{"m": ' + b"[" * depth + b"]" * depth + b"}")
