"""Incremental parsing of a streamed JSON array (Gemini's `streamGenerateContent` without `alt=sse`):
`[{…},\\r\\n{…}]`, each element complete once its closing brace arrives, however reads are split.

Same interface as `SSEParser`: `feed()` returns the elements completed by a read (as events whose
data is the element's JSON text), `finish()` what is left at the end. `complete` tells whether the
closing `]` was seen: a stream cut before it is partial.
"""

from __future__ import annotations

from llm_vcr.framings.sse import SSEEvent

_OPEN, _CLOSE, _QUOTE, _BACKSLASH = b"[{", b"]}", 0x22, 0x5C


class JSONArrayParser:
    __slots__ = ("_buf", "_depth", "_escape", "_in_string", "_scanned", "_start", "complete", "started")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._depth = 0  # nesting inside the top-level array (0: between elements)
        self._in_string = False
        self._escape = False
        self._start = -1  # where the element being read starts in _buf
        self._scanned = 0
        self.started = False  # the opening `[` was seen
        self.complete = False  # the closing `]` was seen

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self.complete:
            return []
        buf = self._buf
        buf += chunk
        events: list[SSEEvent] = []
        i, n = self._scanned, len(buf)
        while i < n:
            c = buf[i]
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif c == _BACKSLASH:
                    self._escape = True
                elif c == _QUOTE:
                    self._in_string = False
            elif not self.started:
                if c == 0x5B:  # [
                    self.started = True
                elif c not in b" \t\r\n":
                    raise ValueError(f"a streamed JSON array starts with '[', not {bytes([c])!r}")
            elif c == _QUOTE:
                self._in_string = True
                if self._depth == 0:
                    self._start = i
            elif c in _OPEN:
                if self._depth == 0:
                    self._start = i
                self._depth += 1
            elif c in _CLOSE:
                if self._depth == 0 and c == 0x5D:  # the array's own ]
                    self.complete = True
                    i += 1
                    break
                self._depth -= 1
                if self._depth == 0:
                    events.append(SSEEvent(data=bytes(buf[self._start : i + 1]).decode("utf-8", "replace")))
                    self._start = -1
            i += 1
        # Keep only the element being read (and nothing before it).
        keep = self._start if self._start >= 0 else i
        del buf[:keep]
        self._scanned = i - keep
        if self._start >= 0:
            self._start = 0
        return events

    def finish(self) -> list[SSEEvent]:
        """End of body: an element cut mid-way is returned unterminated (it will not parse as JSON)."""
        rest = bytes(self._buf).strip() if self._start >= 0 else b""
        self._buf.clear()
        return [SSEEvent(data=rest.decode("utf-8", "replace"), terminated=False)] if rest else []


def frame(items: list[bytes]) -> list[bytes]:
    """Elements as the API streams them: `[` + first, `,\\r\\n` + each next, then `]`."""
    if not items:
        return [b"[]"]
    out = [b"[" + items[0]]
    out += [b",\r\n" + item for item in items[1:]]
    out.append(b"]")
    return out
