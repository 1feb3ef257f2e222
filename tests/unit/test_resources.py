import pytest

from llm_vcr.apis import (  # fmt: skip
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
    classify,
    classify_endpoint,
)


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("POST", "/v1/chat/completions", CHAT),
        ("POST", "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", CHAT),
        ("POST", "/v1/openai/v1/chat/completions", CHAT),
        ("POST", "/chat/completions", CHAT),
        ("POST", "/v1/completions", COMPLETIONS),
        ("POST", "/v1/embeddings/", EMBEDDINGS),
        ("GET", "/v1/models", MODELS),
        ("GET", "/v1/models?limit=3", MODELS),
        ("GET", "/v1/chat/completions", None),  # stored-completion listing: not a model call
        ("POST", "/v1/models", None),
        ("POST", "/v1/responses", RESPONSES),
        ("GET", "/v1/responses/resp_123", None),  # retrieving a stored response: not a model call
        ("POST", "/v1/messages", MESSAGES),
        ("POST", "/v1/messages?beta=true", MESSAGES),
        ("POST", "/v1/threads/t1/messages", None),  # the Assistants API, not Anthropic
        ("POST", "/api/chat", OLLAMA_CHAT),
        ("POST", "/api/generate", OLLAMA_GENERATE),
        ("POST", "/api/embed", OLLAMA_EMBED),
        ("GET", "/api/tags", OLLAMA_TAGS),
        ("GET", "/api/ps", None),
        ("GET", "/healthz", None),
        ("POST", "/v1/chat/completions/extra", None),
        ("POST", "/api/embeddings", OLLAMA_EMBEDDINGS),  # Ollama's, not OpenAI's embeddings
        ("POST", "/api/v1/embeddings", EMBEDDINGS),  # OpenRouter-style prefix
    ],
)
def test_classify(method, path, resource):
    assert classify(method, path) is resource


def test_classify_endpoint_ignores_method():
    assert classify_endpoint("/v1/v1/models") is MODELS
    assert classify_endpoint("/v1/v1/chat/completions") is CHAT
    assert classify_endpoint("/api/generate") is OLLAMA_GENERATE
    assert classify_endpoint("/api/ps") is None


def test_canonical_endpoint_matches_the_seed():
    assert CHAT.endpoint == "/v1/chat/completions"


def test_canonical_endpoints_and_framing():
    assert [r.endpoint for r in (RESPONSES, MESSAGES, OLLAMA_CHAT)] == ["/v1/responses", "/v1/messages", "/api/chat"]
    assert OLLAMA_CHAT.content_type == "application/x-ndjson"
    assert "message_stop" in MESSAGES.end_marker and CHAT.end_marker == "data: [DONE]"
