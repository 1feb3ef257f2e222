"""How streamed answers are cut into chunks on the wire: one module per framing, each an
incremental parser fed raw network reads (split anywhere) and a serialiser for replay.

| framing | on the wire | a complete stream | APIs |
|---|---|---|---|
| SSE_DATA | `data: <json>` events, then `data: [DONE]` | `[DONE]` seen | OpenAI chat, completions |
| SSE_EVENTS | `event: <type>` + `data: <json>` | a terminal event type | Responses, Anthropic |
| SSE_PLAIN | `data: <json>` events, no end marker | the body ended normally | Gemini `alt=sse` |
| NDJSON | one JSON object per line | a last line with `"done": true` | Ollama |
| JSON_ARRAY | one JSON array, streamed element by element | its closing `]` | Gemini without `alt=sse` |
| EVENT_STREAM | AWS binary messages with CRCs | a terminal event, or the body ended | Bedrock |
| WEBSOCKET | both sides' messages on one socket (`websocket.py`) | a close frame | OpenAI Realtime, Responses |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from llm_vcr.framings.sse import SSEEvent


class Framing(StrEnum):
    SSE_DATA = "sse-data"
    SSE_EVENTS = "sse-events"
    SSE_PLAIN = "sse-plain"
    NDJSON = "ndjson"
    JSON_ARRAY = "json-array"
    EVENT_STREAM = "event-stream"
    WEBSOCKET = "websocket"


CONTENT_TYPES = {
    Framing.SSE_DATA: "text/event-stream; charset=utf-8",
    Framing.SSE_EVENTS: "text/event-stream; charset=utf-8",
    Framing.SSE_PLAIN: "text/event-stream",
    Framing.NDJSON: "application/x-ndjson",
    Framing.JSON_ARRAY: "application/json; charset=UTF-8",
    Framing.EVENT_STREAM: "application/vnd.amazon.eventstream",
}
ENDS_WITH_BODY = frozenset({Framing.SSE_PLAIN, Framing.EVENT_STREAM})  # no end marker of their own


class Parser(Protocol):
    def feed(self, chunk: bytes) -> list[SSEEvent]: ...

    def finish(self) -> list[SSEEvent]: ...


def parser(framing: Framing) -> Parser:
    from llm_vcr.framings.eventstream import EventStreamParser
    from llm_vcr.framings.jsonarray import JSONArrayParser
    from llm_vcr.framings.ndjson import NDJSONParser
    from llm_vcr.framings.sse import SSEParser

    if framing is Framing.NDJSON:
        return NDJSONParser()
    if framing is Framing.JSON_ARRAY:
        return JSONArrayParser()
    if framing is Framing.EVENT_STREAM:
        return EventStreamParser()
    return SSEParser()


def of_content_type(content_type: str, default: Framing) -> Framing:
    """The framing a streamed answer's content type says it uses (an API may stream in several)."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/vnd.amazon.eventstream":
        return Framing.EVENT_STREAM
    if ctype in ("application/x-ndjson", "application/jsonl"):
        return Framing.NDJSON
    if ctype == "application/json":
        return Framing.JSON_ARRAY
    if ctype == "text/event-stream" and default in (Framing.NDJSON, Framing.JSON_ARRAY, Framing.EVENT_STREAM):
        return Framing.SSE_PLAIN
    return default
