"""Typed chunk envelopes: `{"__type__": <class path>, "__data__": <JSON as sent>}`.

The type name documents what the data is, in the names the official SDKs use (openai,
anthropic, ollama), as in llama-stack's recordings. It is informational: replay frames by
resource and serves `__data__` verbatim, so an envelope of an unknown type still replays.
A streamed event whose SSE `event:` name differs from its data's `type` keeps the name in
`__event__`, so the original event is reproduced either way.
"""

from __future__ import annotations

from typing import Any

from .resources import (
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    MESSAGES,
    MODELS,
    OLLAMA_CHAT,
    OLLAMA_EMBED,
    OLLAMA_EMBEDDINGS,
    OLLAMA_GENERATE,
    OLLAMA_TAGS,
    RESPONSES,
    Resource,
)  # fmt: skip

JSON = Any

GENERIC = "llm_vcr.generic.JSON"  # data we could type by no rule: kept, never dropped

CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
COMPLETION = "openai.types.completion.Completion"
EMBEDDING_RESPONSE = "openai.types.create_embedding_response.CreateEmbeddingResponse"
MODEL = "openai.types.model.Model"
RESPONSE = "openai.types.responses.response.Response"
MESSAGE = "anthropic.types.message.Message"


def _responses(module: str, cls: str) -> str:
    return f"openai.types.responses.{module}.{cls}"


def _anthropic(module: str, cls: str) -> str:
    return f"anthropic.types.{module}.{cls}"


# (resource, streaming) -> type of each body item.
TYPES: dict[tuple[str, bool], str] = {
    (CHAT.name, False): CHAT_COMPLETION,
    (CHAT.name, True): CHAT_COMPLETION_CHUNK,
    (COMPLETIONS.name, False): COMPLETION,
    (COMPLETIONS.name, True): COMPLETION,
    (EMBEDDINGS.name, False): EMBEDDING_RESPONSE,
    (MODELS.name, False): MODEL,
    (RESPONSES.name, False): RESPONSE,
    (MESSAGES.name, False): MESSAGE,
    (OLLAMA_CHAT.name, False): "ollama._types.ChatResponse",
    (OLLAMA_CHAT.name, True): "ollama._types.ChatResponse",
    (OLLAMA_GENERATE.name, False): "ollama._types.GenerateResponse",
    (OLLAMA_GENERATE.name, True): "ollama._types.GenerateResponse",
    (OLLAMA_EMBED.name, False): "ollama._types.EmbedResponse",
    (OLLAMA_EMBEDDINGS.name, False): "ollama._types.EmbeddingsResponse",
    (OLLAMA_TAGS.name, False): "ollama._types.ListResponse",
}

# (resource, event type) -> type of a streamed event, for APIs whose streams are typed events.
EVENT_TYPES: dict[tuple[str, str], str] = {
    **{(RESPONSES.name, event): _responses(module, cls) for event, module, cls in [
        ("response.created", "response_created_event", "ResponseCreatedEvent"),
        ("response.in_progress", "response_in_progress_event", "ResponseInProgressEvent"),
        ("response.completed", "response_completed_event", "ResponseCompletedEvent"),
        ("response.failed", "response_failed_event", "ResponseFailedEvent"),
        ("response.incomplete", "response_incomplete_event", "ResponseIncompleteEvent"),
        ("response.output_item.added", "response_output_item_added_event", "ResponseOutputItemAddedEvent"),
        ("response.output_item.done", "response_output_item_done_event", "ResponseOutputItemDoneEvent"),
        ("response.content_part.added", "response_content_part_added_event", "ResponseContentPartAddedEvent"),
        ("response.content_part.done", "response_content_part_done_event", "ResponseContentPartDoneEvent"),
        ("response.output_text.delta", "response_text_delta_event", "ResponseTextDeltaEvent"),
        ("response.output_text.done", "response_text_done_event", "ResponseTextDoneEvent"),
        ("response.function_call_arguments.delta", "response_function_call_arguments_delta_event",
         "ResponseFunctionCallArgumentsDeltaEvent"),
        ("response.function_call_arguments.done", "response_function_call_arguments_done_event",
         "ResponseFunctionCallArgumentsDoneEvent"),
        ("response.refusal.delta", "response_refusal_delta_event", "ResponseRefusalDeltaEvent"),
        ("response.refusal.done", "response_refusal_done_event", "ResponseRefusalDoneEvent"),
        ("error", "response_error_event", "ResponseErrorEvent"),
    ]},
    **{(MESSAGES.name, event): _anthropic(module, cls) for event, module, cls in [
        ("message_start", "raw_message_start_event", "RawMessageStartEvent"),
        ("message_delta", "raw_message_delta_event", "RawMessageDeltaEvent"),
        ("message_stop", "raw_message_stop_event", "RawMessageStopEvent"),
        ("content_block_start", "raw_content_block_start_event", "RawContentBlockStartEvent"),
        ("content_block_delta", "raw_content_block_delta_event", "RawContentBlockDeltaEvent"),
        ("content_block_stop", "raw_content_block_stop_event", "RawContentBlockStopEvent"),
    ]},
}  # fmt: skip

# The wire `object` field disagrees with the resource now and then (a chat body sent to a
# legacy `completions` label): trust the object's own word first.
BY_OBJECT: dict[str, str] = {
    "chat.completion": CHAT_COMPLETION,
    "chat.completion.chunk": CHAT_COMPLETION_CHUNK,
    "text_completion": COMPLETION,
    "model": MODEL,
}


def type_for(resource: Resource, streaming: bool, data: JSON, event: str | None = None) -> str:
    if isinstance(data, dict):
        obj = data.get("object")
        if isinstance(obj, str) and obj in BY_OBJECT and resource.api == "openai" and resource is not RESPONSES:
            return BY_OBJECT[obj]
        kind = event or data.get("type")
        if streaming and isinstance(kind, str) and (resource.name, kind) in EVENT_TYPES:
            return EVENT_TYPES[(resource.name, kind)]
    return TYPES.get((resource.name, streaming), GENERIC)


def envelope(type_name: str, data: JSON, event: str | None = None) -> dict[str, JSON]:
    env = {"__type__": type_name, "__data__": data}
    if event is not None and not (isinstance(data, dict) and data.get("type") == event):
        env["__event__"] = event  # only when the data's own type would not reproduce it
    return env


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
    if resource is MODELS and isinstance(data, dict) and isinstance(data.get("data"), list):
        return [envelope(type_for(resource, False, m), m) for m in data["data"]]
    return envelope(type_for(resource, False, data), data)


def listing_payload(resource: Resource, items: list[JSON]) -> dict[str, JSON]:
    if resource is OLLAMA_TAGS:
        return {"models": items}
    return {"object": "list", "data": items}


def listing_items(resource: Resource, body: JSON) -> list[JSON]:
    """The entries of a recorded listing: Model envelopes, or an Ollama ListResponse's models."""
    if resource is OLLAMA_TAGS:
        data = unwrap(body)
        return list(data.get("models") or []) if isinstance(data, dict) else []
    return [unwrap(i) for i in body] if isinstance(body, list) else []
