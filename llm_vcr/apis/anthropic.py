"""Anthropic Messages."""

from __future__ import annotations

from llm_vcr.apis.base import Framing, Resource

HOSTS = ("api.anthropic.com",)


def _type(module: str, cls: str) -> str:
    return f"anthropic.types.{module}.{cls}"


MESSAGES = Resource(
    "v1/messages", "anthropic", framing=Framing.SSE_EVENTS, terminal=frozenset({"message_stop", "error"}),
    body_type=_type("message", "Message"),
    event_types={event: _type(module, cls) for event, module, cls in [
        ("message_start", "raw_message_start_event", "RawMessageStartEvent"),
        ("message_delta", "raw_message_delta_event", "RawMessageDeltaEvent"),
        ("message_stop", "raw_message_stop_event", "RawMessageStopEvent"),
        ("content_block_start", "raw_content_block_start_event", "RawContentBlockStartEvent"),
        ("content_block_delta", "raw_content_block_delta_event", "RawContentBlockDeltaEvent"),
        ("content_block_stop", "raw_content_block_stop_event", "RawContentBlockStopEvent"),
    ]},
)  # fmt: skip

RESOURCES = (MESSAGES,)
