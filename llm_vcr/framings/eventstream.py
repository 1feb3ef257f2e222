"""AWS event streams (`application/vnd.amazon.eventstream`, Bedrock's streaming answers): binary
messages, each a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), headers,
a payload and a CRC32 of everything before it.

The parser is incremental (reads split anywhere) and checks both CRCs: a bad CRC or a truncated
message is an error, never an event. Events come out as `SSEEvent`s whose `event` is the
`:event-type` (or `:exception-type`) header and whose data is the payload (JSON text); a
`:message-type` of `exception` or `error` is kept in `id` so it replays as it came. `frame()` writes
messages back with valid CRCs.
"""

from __future__ import annotations

import struct
import zlib

from llm_vcr.framings.sse import SSEEvent

MAX_MESSAGE = 16 * 1024 * 1024  # the AWS limit for one message
_STRING, _BYTES = 7, 6
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # header value type -> size (no length field)


class EventStreamError(ValueError):
    """A message that is not a valid event-stream message (bad CRC, impossible lengths)."""


def _headers(data: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    i = 0
    while i < len(data):
        n = data[i]
        name = data[i + 1 : i + 1 + n].decode("utf-8", "replace")
        kind = data[i + 1 + n]
        i += 2 + n
        if kind in (_STRING, _BYTES):
            (size,) = struct.unpack_from(">H", data, i)
            raw = data[i + 2 : i + 2 + size]
            out[name] = raw.decode("utf-8", "replace") if kind == _STRING else raw
            i += 2 + size
        elif kind in _FIXED:
            size = _FIXED[kind]
            out[name] = kind == 0 if kind in (0, 1) else data[i : i + size]
            i += size
        else:
            raise EventStreamError(f"unknown header value type {kind}")
    return out


class EventStreamParser:
    __slots__ = ("_buf", "errors")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.errors: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        events = []
        while len(self._buf) >= 12 and not self.errors:
            total, hlen, crc = struct.unpack_from(">III", self._buf, 0)
            if zlib.crc32(bytes(self._buf[:8])) != crc:
                self.errors.append("bad prelude CRC")
                break
            if total < 16 + hlen or total > MAX_MESSAGE:
                self.errors.append(f"impossible message length {total}")
                break
            if len(self._buf) < total:
                break
            message = bytes(self._buf[:total])
            del self._buf[:total]
            if zlib.crc32(message[:-4]) != struct.unpack_from(">I", message, total - 4)[0]:
                self.errors.append("bad message CRC")
                break
            try:
                headers = _headers(message[12 : 12 + hlen])
            except (EventStreamError, IndexError, struct.error) as e:
                self.errors.append(f"unreadable headers ({e})")
                break
            payload = message[12 + hlen : total - 4]
            kind = str(headers.get(":message-type", "event"))
            name = headers.get(":event-type") or headers.get(":exception-type") or headers.get(":error-code")
            events.append(SSEEvent(data=payload.decode("utf-8", "replace"), event=str(name) if name else None,
                                   id=None if kind == "event" else kind))  # fmt: skip
        return events

    def finish(self) -> list[SSEEvent]:
        if self._buf and not self.errors:
            self.errors.append(f"the stream ended inside a message ({len(self._buf)} bytes)")
        self._buf.clear()
        return []


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return bytes([len(n)]) + n + bytes([_STRING]) + struct.pack(">H", len(v)) + v


def frame(payload: bytes, event: str | None, message_type: str = "event") -> bytes:
    """One message, CRCs included, as AWS writes it."""
    headers = _header(":message-type", message_type)
    if message_type == "event":
        headers = _header(":event-type", event or "chunk") + _header(":content-type", "application/json") + headers
    else:
        key = ":exception-type" if message_type == "exception" else ":error-code"
        headers = _header(key, event or "error") + _header(":content-type", "application/json") + headers
    total = 16 + len(headers) + len(payload)
    prelude = struct.pack(">II", total, len(headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return head + struct.pack(">I", zlib.crc32(head))
