"""OpenAI and OpenAI-compatible servers (vLLM, llama.cpp, Azure OpenAI…): chat, completions,
embeddings, models, and the Responses API."""

from __future__ import annotations

from llm_vcr.apis.base import Framing, Resource

HOSTS = ("api.openai.com", "*.openai.azure.com")

CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
COMPLETION = "openai.types.completion.Completion"
MODEL = "openai.types.model.Model"


def _responses(module: str, cls: str) -> str:
    return f"openai.types.responses.{module}.{cls}"


CHAT = Resource("chat/completions", "openai", body_type=CHAT_COMPLETION, chunk_type=CHAT_COMPLETION_CHUNK)
COMPLETIONS = Resource("completions", "openai", body_type=COMPLETION, chunk_type=COMPLETION)
EMBEDDINGS = Resource(
    "embeddings", "openai", body_type="openai.types.create_embedding_response.CreateEmbeddingResponse"
)
MODELS = Resource("models", "openai", methods=("GET",), body_type=MODEL)
RESPONSES = Resource(
    "responses", "openai", framing=Framing.SSE_EVENTS,
    terminal=frozenset({"response.completed", "response.failed", "response.incomplete", "error"}),
    body_type=_responses("response", "Response"),
    event_types={event: _responses(module, cls) for event, module, cls in [
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
)  # fmt: skip

RESOURCES = (CHAT, COMPLETIONS, EMBEDDINGS, MODELS, RESPONSES)

# The wire `object` field disagrees with the resource now and then (a chat body sent to a
# legacy `completions` label): trust the object's own word first.
BY_OBJECT: dict[str, str] = {
    "chat.completion": CHAT_COMPLETION,
    "chat.completion.chunk": CHAT_COMPLETION_CHUNK,
    "text_completion": COMPLETION,
    "model": MODEL,
}
