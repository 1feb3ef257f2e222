"""Incremental NDJSON (Ollama's streaming format): complete lines out, however reads are split."""

from __future__ import annotations

from llm_vcr.framings.sse import SSEEvent


class NDJSONParser:
    """Same interface as `SSEParser`: each non-empty line becomes an event whose data is the line."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        end = self._buf.rfind(b"\n")
        if end == -1:
            return []
        lines = bytes(self._buf[:end]).split(b"\n")
        del self._buf[: end + 1]
        return [SSEEvent(data=line.decode("utf-8", "replace")) for line in lines if line.strip()]

    def finish(self) -> list[SSEEvent]:
        rest, self._buf = bytes(self._buf), bytearray()
        return [SSEEvent(data=rest.decode("utf-8", "replace"), terminated=False)] if rest.strip() else []


def frame(payload: bytes) -> bytes:
    return payload + b"\n"
