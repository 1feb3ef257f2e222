"""Ollama's native API (NDJSON streams ending with a `"done": true` line)."""

from __future__ import annotations

from llm_vcr.apis.base import Framing, Resource

HOSTS = ("ollama.com",)

CHAT = Resource("api/chat", "ollama", framing=Framing.NDJSON, body_type="ollama._types.ChatResponse",
                chunk_type="ollama._types.ChatResponse")  # fmt: skip
GENERATE = Resource("api/generate", "ollama", framing=Framing.NDJSON, body_type="ollama._types.GenerateResponse",
                    chunk_type="ollama._types.GenerateResponse")  # fmt: skip
EMBED = Resource("api/embed", "ollama", body_type="ollama._types.EmbedResponse")
# The legacy endpoint: {"prompt"} -> {"embedding"}.
EMBEDDINGS = Resource("api/embeddings", "ollama", body_type="ollama._types.EmbeddingsResponse")
TAGS = Resource("api/tags", "ollama", methods=("GET",), body_type="ollama._types.ListResponse")

RESOURCES = (CHAT, GENERATE, EMBED, EMBEDDINGS, TAGS)
