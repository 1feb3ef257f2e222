"""WebSocket APIs: the OpenAI Realtime API (`/v1/realtime?model=…`, also on Azure and in the
translations variant) and the Responses API's WebSocket mode (`/v1/responses` upgraded).

A session is keyed by what is known at the handshake: the path and the query (`model`, Azure's
`deployment`), credentials left out. Within a session, replay matches each client event in order
(see `matching/session.py`): `event_id`s, which clients generate, are left out of the comparison.
"""

from __future__ import annotations

import re

from llm_vcr.apis import openai
from llm_vcr.apis.base import Framing, Resource

_REALTIME = "openai.types.realtime"

# Every Realtime event type with its class in the openai SDK (generated from openai 3.60's types);
# the module is the class name in snake case unless given.
_TABLE = """
conversation.created ConversationCreatedEvent
conversation.item.added ConversationItemAdded
conversation.item.create ConversationItemCreateEvent
conversation.item.created ConversationItemCreatedEvent
conversation.item.delete ConversationItemDeleteEvent
conversation.item.deleted ConversationItemDeletedEvent
conversation.item.done ConversationItemDone
conversation.item.input_audio_transcription.completed ConversationItemInputAudioTranscriptionCompletedEvent
conversation.item.input_audio_transcription.delta ConversationItemInputAudioTranscriptionDeltaEvent
conversation.item.input_audio_transcription.failed ConversationItemInputAudioTranscriptionFailedEvent
conversation.item.input_audio_transcription.segment ConversationItemInputAudioTranscriptionSegment
conversation.item.retrieve ConversationItemRetrieveEvent
conversation.item.retrieved realtime_server_event.ConversationItemRetrieved
conversation.item.truncate ConversationItemTruncateEvent
conversation.item.truncated ConversationItemTruncatedEvent
error RealtimeErrorEvent
input_audio_buffer.append InputAudioBufferAppendEvent
input_audio_buffer.clear InputAudioBufferClearEvent
input_audio_buffer.cleared InputAudioBufferClearedEvent
input_audio_buffer.commit InputAudioBufferCommitEvent
input_audio_buffer.committed InputAudioBufferCommittedEvent
input_audio_buffer.speech_started InputAudioBufferSpeechStartedEvent
input_audio_buffer.speech_stopped InputAudioBufferSpeechStoppedEvent
input_audio_buffer.timeout_triggered InputAudioBufferTimeoutTriggered
mcp_list_tools.completed McpListToolsCompleted
mcp_list_tools.failed McpListToolsFailed
mcp_list_tools.in_progress McpListToolsInProgress
output_audio_buffer.clear OutputAudioBufferClearEvent
output_audio_buffer.cleared realtime_server_event.OutputAudioBufferCleared
output_audio_buffer.started realtime_server_event.OutputAudioBufferStarted
output_audio_buffer.stopped realtime_server_event.OutputAudioBufferStopped
rate_limits.updated RateLimitsUpdatedEvent
response.cancel ResponseCancelEvent
response.content_part.added ResponseContentPartAddedEvent
response.content_part.done ResponseContentPartDoneEvent
response.create ResponseCreateEvent
response.created ResponseCreatedEvent
response.done ResponseDoneEvent
response.function_call_arguments.delta ResponseFunctionCallArgumentsDeltaEvent
response.function_call_arguments.done ResponseFunctionCallArgumentsDoneEvent
response.mcp_call.completed ResponseMcpCallCompleted
response.mcp_call.failed ResponseMcpCallFailed
response.mcp_call.in_progress ResponseMcpCallInProgress
response.mcp_call_arguments.delta ResponseMcpCallArgumentsDelta
response.mcp_call_arguments.done ResponseMcpCallArgumentsDone
response.output_audio.delta ResponseAudioDeltaEvent
response.output_audio.done ResponseAudioDoneEvent
response.output_audio_transcript.delta ResponseAudioTranscriptDeltaEvent
response.output_audio_transcript.done ResponseAudioTranscriptDoneEvent
response.output_item.added ResponseOutputItemAddedEvent
response.output_item.done ResponseOutputItemDoneEvent
response.output_text.delta ResponseTextDeltaEvent
response.output_text.done ResponseTextDoneEvent
session.created SessionCreatedEvent
session.update SessionUpdateEvent
session.updated SessionUpdatedEvent
"""


def _class_path(spec: str) -> str:
    module, _, cls = spec.rpartition(".")
    return f"{_REALTIME}.{module or re.sub(r'(?<!^)(?=[A-Z])', '_', cls).lower()}.{cls}"


_REALTIME_EVENTS = {event: _class_path(spec) for event, spec in (line.split() for line in _TABLE.strip().splitlines())}

REALTIME = Resource(
    "realtime", "openai", methods=("GET",), framing=Framing.WEBSOCKET, websocket=True,
    pattern=re.compile(r"/realtime(?:/(?P<variant>translations))?$"),
    event_types=_REALTIME_EVENTS,
    chunk_type=f"{_REALTIME}.realtime_server_event.RealtimeServerEvent",
    client_type=f"{_REALTIME}.realtime_client_event.RealtimeClientEvent",
)  # fmt: skip
RESPONSES_SOCKET = Resource(
    "responses-websocket", "openai", methods=("GET",), framing=Framing.WEBSOCKET, websocket=True,
    pattern=re.compile(r"/responses$"), canonical_path="/v1/responses",
    event_types=openai.RESPONSES.event_types,
    chunk_type="openai.types.beta.beta_responses_server_event.BetaResponsesServerEvent",
    client_type="openai.types.beta.beta_responses_client_event.BetaResponsesClientEvent",
)  # fmt: skip

RESOURCES = (REALTIME, RESPONSES_SOCKET)

# Fields a client generates afresh in every run: never part of what a client event must match.
CLIENT_GENERATED = ("event_id",)
