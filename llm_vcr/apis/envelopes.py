"""Typed chunk envelopes: `{"__type__": <class path>, "__data__": <JSON as sent>}`.

The type name documents what the data is, in the names the official SDKs use (openai,
anthropic, ollama), as in llama-stack's recordings. It is informational: replay frames by
resource and serves `__data__` verbatim, so an envelope of an unknown type still replays.
A streamed event whose SSE `event:` name (or AWS `:event-type`) differs from its data's `type`
keeps the name in `__event__`, so the original event is reproduced either way; an AWS event-stream
exception message keeps its message type in `__kind__`.
"""

from __future__ import annotations

from typing import Any

from llm_vcr.apis import openai
from llm_vcr.apis.base import Resource

JSON = Any

GENERIC = "llm_vcr.generic.JSON"  # data we could type by no rule: kept, never dropped


def type_for(resource: Resource, streaming: bool, data: JSON, event: str | None = None) -> str:
    if isinstance(data, dict):
        obj = data.get("object")
        if isinstance(obj, str) and obj in openai.BY_OBJECT and resource.api == "openai" and not resource.event_types:
            return openai.BY_OBJECT[obj]
        kind = event or data.get("type")
        if streaming and isinstance(kind, str) and kind in resource.event_types:
            return resource.event_types[kind]
    return (resource.chunk_type if streaming else resource.body_type) or GENERIC


def envelope(type_name: str, data: JSON, event: str | None = None, kind: str | None = None) -> dict[str, JSON]:
    env = {"__type__": type_name, "__data__": data}
    if event is not None and not (isinstance(data, dict) and data.get("type") == event):
        env["__event__"] = event  # only when the data's own type would not reproduce it
    if kind is not None:
        env["__kind__"] = kind  # an AWS event-stream message that is not an event ("exception", "error")
    return env


def message_kind(value: JSON) -> str:
    """The message type an event-stream item was sent as ("event" unless recorded otherwise)."""
    kind = value.get("__kind__") if is_envelope(value) else None
    return kind if isinstance(kind, str) else "event"


def is_envelope(value: JSON) -> bool:
    return isinstance(value, dict) and "__data__" in value and "__type__" in value


def unwrap(value: JSON) -> JSON:
    """`__data__` of an envelope; anything else (e.g. a raw dict of another recorder) as is."""
    return value["__data__"] if is_envelope(value) else value


def event_name(value: JSON) -> str | None:
    """The SSE event name a streamed item was sent with (event-typed streams only)."""
    if is_envelope(value) and isinstance(value.get("__event__"), str):
        return value["__event__"]
    data = unwrap(value)
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def json_body(resource: Resource, data: JSON) -> JSON:
    """A non-streaming body: one envelope, or for `/models` a list of Model envelopes."""
    if resource is openai.MODELS and isinstance(data, dict) and isinstance(data.get("data"), list):
        return [envelope(type_for(resource, False, m), m) for m in data["data"]]
    return envelope(type_for(resource, False, data), data)


def listing_payload(resource: Resource, items: list[JSON]) -> dict[str, JSON]:
    if resource.api == "ollama":
        return {"models": items}
    return {"object": "list", "data": items}


def listing_items(resource: Resource, body: JSON) -> list[JSON]:
    """The entries of a recorded listing: Model envelopes, or an Ollama ListResponse's models."""
    if resource.api == "ollama":
        data = unwrap(body)
        return list(data.get("models") or []) if isinstance(data, dict) else []
    return [unwrap(i) for i in body] if isinstance(body, list) else []
