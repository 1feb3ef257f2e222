"""Typed chunk envelopes: `{"__type__": <class path>, "__data__": <JSON as sent>}`.

The type name documents what the data is, in the names the OpenAI Python SDK uses, as in
llama-stack's recordings. It is informational: replay frames by resource and streaming,
and serves `__data__` verbatim, so an envelope of an unknown type still replays.
"""

from __future__ import annotations

from typing import Any

from .resources import CHAT, COMPLETIONS, EMBEDDINGS, MODELS, Resource

JSON = Any

GENERIC = "llm_vcr.generic.JSON"  # data we could type by no rule: kept, never dropped

CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
COMPLETION = "openai.types.completion.Completion"
EMBEDDING_RESPONSE = "openai.types.create_embedding_response.CreateEmbeddingResponse"
MODEL = "openai.types.model.Model"

# (resource, streaming) -> envelope type of each body item.
TYPES: dict[tuple[str, bool], str] = {
    (CHAT.name, False): CHAT_COMPLETION,
    (CHAT.name, True): CHAT_COMPLETION_CHUNK,
    (COMPLETIONS.name, False): COMPLETION,
    (COMPLETIONS.name, True): COMPLETION,
    (EMBEDDINGS.name, False): EMBEDDING_RESPONSE,
    (MODELS.name, False): MODEL,
}

# The wire `object` field disagrees with the resource now and then (a chat body sent to a
# legacy `completions` label): trust the object's own word first.
BY_OBJECT: dict[str, str] = {
    "chat.completion": CHAT_COMPLETION,
    "chat.completion.chunk": CHAT_COMPLETION_CHUNK,
    "text_completion": COMPLETION,
    "model": MODEL,
}


def type_for(resource: Resource, streaming: bool, data: JSON) -> str:
    if isinstance(data, dict):
        obj = data.get("object")
        if isinstance(obj, str) and obj in BY_OBJECT:
            return BY_OBJECT[obj]
    return TYPES.get((resource.name, streaming), GENERIC)


def envelope(type_name: str, data: JSON) -> dict[str, JSON]:
    return {"__type__": type_name, "__data__": data}


def is_envelope(value: JSON) -> bool:
    return isinstance(value, dict) and "__data__" in value and "__type__" in value


def unwrap(value: JSON) -> JSON:
    """`__data__` of an envelope; anything else (e.g. a raw dict of another recorder) as is."""
    return value["__data__"] if is_envelope(value) else value


def stream_body(resource: Resource, chunks: list[JSON]) -> list[dict[str, JSON]]:
    return [envelope(type_for(resource, True, c), c) for c in chunks]


def json_body(resource: Resource, data: JSON) -> JSON:
    """A non-streaming body: one envelope, or for `/models` a list of Model envelopes."""
    if resource is MODELS and isinstance(data, dict) and isinstance(data.get("data"), list):
        return [envelope(type_for(resource, False, m), m) for m in data["data"]]
    return envelope(type_for(resource, False, data), data)


def models_payload(items: list[JSON]) -> dict[str, JSON]:
    return {"object": "list", "data": items}
