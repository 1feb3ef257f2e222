"""Which requests are LLM traffic, and how each API frames its answers.

Resources are recognised by path suffix on any host and any prefix (`/v1/…`, Azure's
`/openai/deployments/X/…?api-version=…`, llama-stack's `/v1/openai/v1/…`), so the resource, not
the URL, identifies the call. Each resource also says how a streamed answer is framed and
which chunk ends it: completeness is a protocol fact, not a connection event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Framing(StrEnum):
    SSE_DATA = "sse-data"  # data: <json> per chunk, then data: [DONE]  (OpenAI chat/completions)
    SSE_EVENTS = "sse-events"  # event: <type> + data: <json>, a terminal event type  (Responses, Anthropic)
    NDJSON = "ndjson"  # one JSON object per line, the last with "done": true  (Ollama)


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # the matching identity, e.g. "chat/completions", "api/chat"
    api: str  # "openai", "anthropic" or "ollama"
    methods: tuple[str, ...] = ("POST",)
    framing: Framing = Framing.SSE_DATA
    terminal: frozenset[str] = frozenset()  # SSE_EVENTS: event types that end a stream

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


CHAT = Resource("chat/completions", "openai")
COMPLETIONS = Resource("completions", "openai")
EMBEDDINGS = Resource("embeddings", "openai")
MODELS = Resource("models", "openai", methods=("GET",))
RESPONSES = Resource(
    "responses", "openai", framing=Framing.SSE_EVENTS,
    terminal=frozenset({"response.completed", "response.failed", "response.incomplete", "error"}),
)  # fmt: skip
MESSAGES = Resource(
    "v1/messages", "anthropic", framing=Framing.SSE_EVENTS, terminal=frozenset({"message_stop", "error"})
)
OLLAMA_CHAT = Resource("api/chat", "ollama", framing=Framing.NDJSON)
OLLAMA_GENERATE = Resource("api/generate", "ollama", framing=Framing.NDJSON)
OLLAMA_EMBED = Resource("api/embed", "ollama")
OLLAMA_EMBEDDINGS = Resource("api/embeddings", "ollama")  # the legacy endpoint: {"prompt"} -> {"embedding"}
OLLAMA_TAGS = Resource("api/tags", "ollama", methods=("GET",))

# Longest suffix first: "chat/completions" must win over "completions", "api/embeddings" over "embeddings".
ALL: tuple[Resource, ...] = tuple(
    sorted(
        (CHAT, COMPLETIONS, EMBEDDINGS, MODELS, RESPONSES, MESSAGES, OLLAMA_CHAT, OLLAMA_GENERATE, OLLAMA_EMBED,
         OLLAMA_EMBEDDINGS, OLLAMA_TAGS),
        key=lambda r: -len(r.name),
    )
)  # fmt: skip
BY_NAME: dict[str, Resource] = {r.name: r for r in ALL}
LISTINGS = (MODELS, OLLAMA_TAGS)  # bodiless GETs answered with the union of every recorded list


def _match(path: str) -> Resource | None:
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for resource in ALL:
        if path.endswith("/" + resource.name) or path == resource.name:
            return resource
    return None


def classify(method: str, path: str) -> Resource | None:
    """The resource a request is for, or None for traffic that passes through untouched."""
    resource = _match(path)
    return resource if resource is not None and method.upper() in resource.methods else None


def classify_endpoint(endpoint: str) -> Resource | None:
    """Like `classify`, for a stored recording whose method may not be the wire one.

    Recorders such as llama-stack's store `GET /models` as `POST` with an empty body.
    """
    return _match(endpoint)
