"""Bodies from the wire, handled defensively: bounded decompression and strict JSON.

A 474 KB gzip body can inflate to 500 MB, a request can nest 10,000 arrays deep, and `NaN`,
`Infinity` or `1e400` are not JSON: each gets a clear error, never a stall, a crash or a key
equal to that of `null`. Pure (no mitmproxy): shared by the addons, the CLI and the writer.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

import orjson

JSON = Any

MAX_DEPTH = 128  # nesting levels of a JSON value we key, redact and compare (LLM requests use ~10)
DEFAULT_MAX_BODY = 64 * 1024 * 1024  # decoded bytes (option vcr_max_body_mb)


class BodyTooLarge(ValueError):
    """A body that inflates past the limit: it is never decoded further."""


def decode(raw: bytes, content_encoding: str | None, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """`raw` decoded from its Content-Encoding (gzip, deflate, br, zstd, or a list of them), at most
    `limit` bytes. Raises BodyTooLarge past the limit, ValueError for an unknown or broken encoding."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    data = raw
    for coding in reversed(codings):  # the last one applied is undone first
        if coding in ("identity", "none"):
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise ValueError(f"unknown content-encoding {coding!r}")
        try:
            data = decoder(data, limit)
        except BodyTooLarge:
            raise
        except Exception as e:  # zlib.error, brotli.error, ZstdError: broken data
            raise ValueError(f"cannot decode the {coding} body: {e}") from e
    if len(data) > limit:
        raise BodyTooLarge(f"the body has {len(data):,} bytes, over the {limit:,}-byte limit")
    return data


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the body inflates past the {limit:,}-byte limit (vcr_max_body_mb)")


def _zlib(data: bytes, limit: int, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, limit + 1)
    if len(out) > limit or d.unconsumed_tail:
        raise _too_large(limit)
    return out + d.flush()


def _gzip(data: bytes, limit: int) -> bytes:
    return _zlib(data, limit, 47)  # gzip or zlib header, auto-detected


def _deflate(data: bytes, limit: int) -> bytes:
    try:
        return _zlib(data, limit, 15)
    except zlib.error:  # servers send raw deflate (no zlib header) too
        return _zlib(data, limit, -15)


def _brotli(data: bytes, limit: int) -> bytes:
    import brotli  # a mitmproxy dependency, wherever the proxy runs

    d = brotli.Decompressor()
    out = d.process(data, output_buffer_limit=limit + 1)
    if len(out) > limit or not d.is_finished():
        if len(out) > limit:
            raise _too_large(limit)
        raise ValueError("truncated brotli data")
    return out


def _zstd(data: bytes, limit: int) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]  # mitmproxy's dependency

    out = bytearray()
    while data:
        d = zstd.ZstdDecompressor()
        out += d.decompress(data, max_length=limit + 1 - len(out))
        if len(out) > limit or (not d.needs_input and not d.eof):
            raise _too_large(limit)
        if not d.eof:
            raise ValueError("truncated zstd data")
        data = d.unused_data  # concatenated frames
    return bytes(out)


_DECODERS = {"gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate, "br": _brotli, "zstd": _zstd}


# ---- JSON -----------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} overflows a double")
    return value


_BIG_INT = re.compile(rb"[0-9]{20}")


def loads(data: bytes | str, exact: bool = False) -> JSON:
    """JSON as sent: orjson for speed, the stdlib for what orjson refuses but is valid. Non-finite
    numbers (`NaN`, `Infinity`, `1e400`) are a ValueError.

    orjson reads integers beyond 64 bits as floats; `exact` (what is stored: recordings must hold
    the data exactly as sent) reads such bodies with the stdlib instead. Keys do not need it:
    `keys.canonical` compares big integers as floats either way.
    """
    if exact and _BIG_INT.search(data.encode() if isinstance(data, str) else data):
        return _stdlib_loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        if "infinity" in str(e).lower():
            raise ValueError("a number overflows a double (JSON has no infinities)") from e
        return _stdlib_loads(data)


def _stdlib_loads(data: bytes | str) -> JSON:
    try:
        return json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None


def dumps(value: JSON, pretty: bool = False) -> bytes:
    """orjson's bytes, or the stdlib's for what orjson cannot write (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE if pretty else None)
    except TypeError:
        text = json.dumps(value, ensure_ascii=False, indent=2 if pretty else None,
                          separators=None if pretty else (",", ":"))  # fmt: skip
        return (text + "\n" if pretty else text).encode()


def request_json(content: bytes | None, exact: bool = False) -> JSON:
    """A request body as JSON (None when empty). ValueError with a reason for anything unusable."""
    if not content:
        return None
    try:
        value = loads(content, exact)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"the request body is not valid JSON ({e})") from e
    return value  # its depth is checked where it is walked (keys.canonical)
