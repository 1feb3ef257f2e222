"""Incremental Server-Sent Events parsing and serialisation (WHATWG EventSource rules).

The parser is fed raw network reads, which split events, lines and even UTF-8 sequences
anywhere. It works on bytes and decodes one complete line at a time, so a split never
corrupts text. Comments (`: ping` keep-alives) are not events. `\\r\\n`, `\\r` and `\\n`
all end a line. A final event without its blank line is only emitted by `finish()`,
because mid-stream it may still be growing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DONE = "[DONE]"


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    # False for an event the stream ended inside (no blank line after it). Spec-following clients
    # discard such an event, so replay must reproduce the missing terminator, not fix it.
    terminated: bool = field(default=True, compare=False)

    @property
    def is_done(self) -> bool:
        return self.data == DONE


@dataclass(slots=True)
class _Pending:
    data: list[str] = field(default_factory=list)
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    has_field: bool = False


class SSEParser:
    """Feed bytes with `feed()`, collect complete events; call `finish()` at end of stream."""

    __slots__ = ("_buf", "_pending", "_skip_lf", "bytes_seen")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pending = _Pending()
        self._skip_lf = False  # the previous read ended in \r: a leading \n belongs to it
        self.bytes_seen = 0

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self.bytes_seen += len(chunk)
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        buf = self._buf
        buf += chunk
        events: list[SSEEvent] = []
        start = 0
        n = len(buf)
        while start < n:
            cr = buf.find(b"\r", start)
            lf = buf.find(b"\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, nxt = lf, lf + 1
            elif cr == n - 1:
                # A trailing \r may be the first half of \r\n that the next read completes.
                end, nxt = cr, cr + 1
                self._skip_lf = True
            else:
                end = cr
                nxt = cr + 2 if buf[cr + 1 : cr + 2] == b"\n" else cr + 1
            event = self._line(bytes(buf[start:end]))
            if event is not None:
                events.append(event)
            start = nxt
        del buf[:start]
        return events

    def finish(self) -> list[SSEEvent]:
        """End of stream: a last line and event that lack their terminators still count."""
        events: list[SSEEvent] = []
        if self._buf:
            event = self._line(bytes(self._buf))
            self._buf.clear()
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            event.terminated = False
            events.append(event)
        return events

    @property
    def has_partial_event(self) -> bool:
        return bool(self._buf) or self._pending.has_field

    def _line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", "replace")
        if line[0] == ":":
            return None  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        p = self._pending
        if name == "data":
            p.data.append(value)
            p.has_field = True
        elif name == "event":
            p.event = value
            p.has_field = True
        elif name == "id":
            if "\0" not in value:
                p.id = value
            p.has_field = True
        elif name == "retry":
            if value.isdigit():
                p.retry = int(value)
            p.has_field = True
        # Unknown field names are ignored, as the spec says.
        return None

    def _dispatch(self) -> SSEEvent | None:
        p = self._pending
        if not p.has_field:
            return None
        self._pending = _Pending()
        if not p.data:
            # The spec drops events without data; they carry nothing a client could see.
            return None
        return SSEEvent(data="\n".join(p.data), event=p.event, id=p.id, retry=p.retry)


def parse(raw: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    return parser.feed(raw) + parser.finish()


def serialize(event: SSEEvent) -> bytes:
    out: list[str] = []
    if event.event is not None:
        out.append(f"event: {event.event}\n")
    if event.id is not None:
        out.append(f"id: {event.id}\n")
    if event.retry is not None:
        out.append(f"retry: {event.retry}\n")
    for line in event.data.split("\n"):
        out.append(f"data: {line}\n")
    out.append("\n")
    return "".join(out).encode()


def frame_data(payload: bytes) -> bytes:
    """The hot path of replay: one `data:` event around an already-serialised JSON payload."""
    return b"data: " + payload + b"\n\n"
