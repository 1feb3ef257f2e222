"""AWS Bedrock runtime: Converse and InvokeModel, plain and streamed as AWS event streams (binary
messages with CRCs). The model id is in the path (`/model/{modelId}/converse`): part of the key. The
SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`) are never stored or keyed."""

from __future__ import annotations

import re

from llm_vcr.apis.base import Framing, Resource

HOSTS = ("bedrock-runtime.*.amazonaws.com", "bedrock-runtime-fips.*.amazonaws.com")


def _call(action: str) -> re.Pattern[str]:
    return re.compile(r"/model/(?P<model>[^/]+)/" + action + "$")


def _events(names: list[str]) -> dict[str, str]:
    return {name: f"bedrock.ConverseStreamOutput.{name}" for name in names}


CONVERSE = Resource("bedrock:converse", "bedrock", pattern=_call("converse"), body_type="bedrock.ConverseResponse")
CONVERSE_STREAM = Resource(
    "bedrock:converse-stream", "bedrock", pattern=_call("converse-stream"), framing=Framing.EVENT_STREAM,
    streaming=True, terminal=frozenset({"messageStop"}), chunk_type="bedrock.ConverseStreamOutput",
    event_types=_events(["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop",
                         "messageStop", "metadata"]),
)  # fmt: skip
INVOKE = Resource("bedrock:invoke", "bedrock", pattern=_call("invoke"), body_type="bedrock.InvokeModelResponse")
INVOKE_STREAM = Resource(
    "bedrock:invoke-with-response-stream", "bedrock", pattern=_call("invoke-with-response-stream"),
    framing=Framing.EVENT_STREAM, streaming=True, chunk_type="bedrock.ResponseStream.chunk",
)  # fmt: skip

RESOURCES = (CONVERSE, CONVERSE_STREAM, INVOKE, INVOKE_STREAM)
