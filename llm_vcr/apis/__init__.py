"""The API tables and the registry built from them: which requests are LLM calls llm-vcr records
and replays, recognised by path suffix on any host and any prefix (`/v1/…`, Azure's
`/openai/deployments/X/…?api-version=…`, llama-stack's `/v1/openai/v1/…`), so the resource, not
the URL, identifies the call. Each resource also says how a streamed answer is framed and which
chunk ends it: completeness is a protocol fact, not a connection event.
"""

from __future__ import annotations

import functools

from llm_vcr.apis import anthropic, bedrock, gemini, mcp, ollama, openai, realtime
from llm_vcr.apis.base import Framing, Resource
from llm_vcr.apis.guard import normalize_path

CHAT, COMPLETIONS, EMBEDDINGS, MODELS, RESPONSES = openai.RESOURCES
MESSAGES = anthropic.MESSAGES
OLLAMA_CHAT, OLLAMA_GENERATE, OLLAMA_EMBED, OLLAMA_EMBEDDINGS, OLLAMA_TAGS = ollama.RESOURCES

API_MODULES = (openai, anthropic, ollama, gemini, bedrock, mcp, realtime)

# Resources with a path pattern first; then the longest suffix first: "chat/completions" must win over
# "completions", "api/embeddings" over "embeddings".
ALL: tuple[Resource, ...] = tuple(
    sorted((r for m in API_MODULES for r in m.RESOURCES), key=lambda r: (r.pattern is None, -len(r.name)))
)
BY_NAME: dict[str, Resource] = {r.name: r for r in ALL}
LISTINGS = (MODELS, OLLAMA_TAGS)  # bodiless GETs answered with the union of every recorded list


@functools.lru_cache(maxsize=4096)  # a client sends many requests to few paths: classify each path once
def _match(path: str) -> Resource | None:
    # As a server would route it: `/V1/Chat/Completions/`, `…completion%73` and `…;x` are chat calls too.
    path = normalize_path(path)
    for resource in ALL:
        if resource.api == "mcp" or resource.websocket:
            continue  # recognised by its body (classify_request) or its upgrade (classify_websocket)
        if resource.pattern is not None:
            if resource.pattern.search(path):
                return resource
        elif path.endswith("/" + resource.name) or path == resource.name:
            return resource
    return None


def classify(method: str, path: str) -> Resource | None:
    """The resource a request is for, or None for traffic llm-vcr does not record or replay."""
    resource = _match(path)
    return resource if resource is not None and method.upper() in resource.methods else None


def classify_websocket(path: str) -> Resource | None:
    """The WebSocket API a `GET` with `Upgrade: websocket` opens a session of, or None."""
    path = normalize_path(path)
    return next((r for r in realtime.RESOURCES if r.pattern is not None and r.pattern.search(path)), None)


def classify_request(
    method: str, path: str, raw: bytes | None, accept: str = "", upgrade: bool = False
) -> Resource | None:
    """Like `classify`, for APIs recognised by their body too (MCP: JSON-RPC on any path), and for
    WebSocket sessions (`upgrade`: the request asks for `Upgrade: websocket`)."""
    if upgrade:
        return classify_websocket(path) if method.upper() == "GET" else None
    resource = classify(method, path)
    if resource is None and mcp.is_call(method.upper(), raw, accept):
        return mcp.CALL
    return resource


def classify_endpoint(endpoint: str) -> Resource | None:
    """Like `classify`, for a stored recording whose method may not be the wire one.

    Recorders such as llama-stack's store `GET /models` as `POST` with an empty body.
    """
    return _match(endpoint)


__all__ = [
    "ALL", "API_MODULES", "BY_NAME", "CHAT", "COMPLETIONS", "EMBEDDINGS", "LISTINGS", "MESSAGES", "MODELS",
    "OLLAMA_CHAT", "OLLAMA_EMBED", "OLLAMA_EMBEDDINGS", "OLLAMA_GENERATE", "OLLAMA_TAGS", "RESPONSES", "Framing",
    "Resource", "classify", "classify_endpoint", "classify_request", "classify_websocket",
]  # fmt: skip
