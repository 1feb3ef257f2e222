"""Google Gemini (the Gemini API at generativelanguage.googleapis.com, and Vertex AI): generate, stream
(a JSON array, or SSE data frames with `alt=sse`; no end marker either way), embed, count tokens.
The model is in the path (`…/models/gemini-2.0-flash:generateContent`): it is part of the key, the
API key (`?key=`, `x-goog-api-key`) never is."""

from __future__ import annotations

import re

from llm_vcr.apis.base import Framing, Resource

HOSTS = ("generativelanguage.googleapis.com", "aiplatform.googleapis.com", "*-aiplatform.googleapis.com")


def _call(method: str) -> re.Pattern[str]:
    return re.compile(r"/models/(?P<model>[^/:]+):" + method.lower() + "$")


def _type(cls: str) -> str:
    return f"google.genai.types.{cls}"


GENERATE = Resource("gemini:generateContent", "gemini", pattern=_call("generateContent"),
                    body_type=_type("GenerateContentResponse"))  # fmt: skip
STREAM = Resource("gemini:streamGenerateContent", "gemini", pattern=_call("streamGenerateContent"),
                  framing=Framing.JSON_ARRAY, streaming=True, sse_query="alt=sse",
                  body_type=_type("GenerateContentResponse"), chunk_type=_type("GenerateContentResponse"))  # fmt: skip
EMBED = Resource("gemini:embedContent", "gemini", pattern=_call("embedContent"),
                 body_type=_type("EmbedContentResponse"))  # fmt: skip
BATCH_EMBED = Resource("gemini:batchEmbedContents", "gemini", pattern=_call("batchEmbedContents"),
                       body_type=_type("EmbedContentResponse"))  # fmt: skip
COUNT_TOKENS = Resource("gemini:countTokens", "gemini", pattern=_call("countTokens"),
                        body_type=_type("CountTokensResponse"))  # fmt: skip

RESOURCES = (GENERATE, STREAM, EMBED, BATCH_EMBED, COUNT_TOKENS)
