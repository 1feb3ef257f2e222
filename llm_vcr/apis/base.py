"""What an API table is made of: resources (the calls llm-vcr records and replays) and their framings.

Each API module (`openai.py`, `anthropic.py`, `ollama.py`) is one table of `Resource`s; adding an
API is adding such a module and listing it in `apis/__init__.py`, never editing the proxy glue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Framing(StrEnum):
    SSE_DATA = "sse-data"  # data: <json> per chunk, then data: [DONE]  (OpenAI chat/completions)
    SSE_EVENTS = "sse-events"  # event: <type> + data: <json>, a terminal event type  (Responses, Anthropic)
    NDJSON = "ndjson"  # one JSON object per line, the last with "done": true  (Ollama)


@dataclass(frozen=True, slots=True)
class Resource:
    """One call of an API, recognised by its path suffix on any host and any prefix.

    `body_type` / `chunk_type`: the envelope type of a whole answer and of each streamed chunk,
    in the official SDK's names; `event_types`: per streamed event type, for event-typed streams.
    """

    name: str  # the matching identity, e.g. "chat/completions", "api/chat"
    api: str  # "openai", "anthropic" or "ollama"
    methods: tuple[str, ...] = ("POST",)
    framing: Framing = Framing.SSE_DATA
    terminal: frozenset[str] = frozenset()  # SSE_EVENTS: event types that end a stream
    body_type: str | None = None
    chunk_type: str | None = None
    event_types: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def has_body(self) -> bool:
        return "POST" in self.methods

    @property
    def endpoint(self) -> str:
        """The canonical endpoint written to recordings, as in the seed (`/v1/chat/completions`)."""
        return f"/{self.name}" if self.name.startswith(("v1/", "api/")) else f"/v1/{self.name}"

    @property
    def end_marker(self) -> str:
        """What ends a complete stream, in words (for messages about cut streams)."""
        if self.framing is Framing.SSE_DATA:
            return "data: [DONE]"
        if self.framing is Framing.NDJSON:
            return 'a line with "done": true'
        return "a " + " / ".join(sorted(self.terminal)) + " event"

    @property
    def content_type(self) -> str:
        if self.framing is Framing.NDJSON:
            return "application/x-ndjson"
        return "text/event-stream; charset=utf-8"
