"""What an API table is made of: resources (the calls llm-vcr records and replays) and their framings.

Each API module (`openai.py`, `anthropic.py`, `ollama.py`) is one table of `Resource`s; adding an
API is adding such a module and listing it in `apis/__init__.py`, never editing the proxy glue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm_vcr.framings import CONTENT_TYPES, Framing


@dataclass(frozen=True, slots=True)
class Resource:
    """One call of an API, recognised by its path suffix on any host and any prefix, or by `pattern`.

    `body_type` / `chunk_type`: the envelope type of a whole answer and of each streamed chunk,
    in the official SDK's names; `event_types`: per streamed event type, for event-typed streams.
    `pattern` (searched in the normalised path) may capture path parameters (`(?P<model>…)`): they are
    part of the request key, for APIs that put the model in the path (Gemini, Bedrock). `streaming`:
    every answer of this call streams (Gemini's `streamGenerateContent`), whatever the body says.
    `sse_query`: a query parameter that switches the stream to SSE (Gemini's `alt=sse`).
    """

    name: str  # the matching identity, e.g. "chat/completions", "api/chat"
    api: str  # "openai", "anthropic" or "ollama"
    methods: tuple[str, ...] = ("POST",)
    framing: Framing = Framing.SSE_DATA
    terminal: frozenset[str] = frozenset()  # SSE_EVENTS: event types that end a stream
    body_type: str | None = None
    chunk_type: str | None = None
    event_types: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    pattern: re.Pattern[str] | None = field(default=None, hash=False, compare=False)
    streaming: bool = False
    sse_query: str | None = None  # e.g. "alt=sse"
    # For streams with no end marker of their own: whether the chunks hold a whole answer (MCP: the
    # JSON-RPC response), so a client that hangs up right after it does not make the stream partial.
    complete_when: Callable[[list[Any]], bool] | None = field(default=None, hash=False, compare=False)
    # WebSocket sessions (`Upgrade: websocket` on this path): `event_types` types both sides' events,
    # `chunk_type` / `client_type` the server's and the client's other events.
    websocket: bool = False
    client_type: str | None = None
    canonical_path: str | None = None  # the endpoint written to recordings, when the name does not say it

    def path_params(self, norm_path: str) -> dict[str, str]:
        """What the path says of the call (`{"model": …}`), from `pattern`'s named groups."""
        if self.pattern is None:
            return {}
        m = self.pattern.search(norm_path)
        return {k: v for k, v in m.groupdict().items() if v is not None} if m else {}

    def framing_for(self, query: str) -> Framing:
        """How to frame a replayed stream for a request with this query string."""
        if self.sse_query and self.sse_query in query.split("&"):
            return Framing.SSE_PLAIN
        return self.framing

    @property
    def has_body(self) -> bool:
        return "POST" in self.methods

    @property
    def endpoint(self) -> str:
        """The canonical endpoint written to recordings, as in the seed (`/v1/chat/completions`)."""
        if self.canonical_path is not None:
            return self.canonical_path
        if ":" in self.name:  # gemini:generateContent, bedrock:converse: the path holds the model
            return "/" + self.name.split(":", 1)[1]
        return f"/{self.name}" if self.name.startswith(("v1/", "api/")) else f"/v1/{self.name}"

    @property
    def end_marker(self) -> str:
        """What ends a complete stream, in words (for messages about cut streams)."""
        if self.framing is Framing.SSE_DATA:
            return "data: [DONE]"
        if self.framing is Framing.NDJSON:
            return 'a line with "done": true'
        if self.framing is Framing.JSON_ARRAY:
            return "the closing ] of its JSON array"
        if self.framing is Framing.WEBSOCKET:
            return "a close frame"
        if not self.terminal:
            return "the end of its body"
        return "a " + " / ".join(sorted(self.terminal)) + " event"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.framing]
