import pytest

from llm_vcr.resources import CHAT, COMPLETIONS, EMBEDDINGS, MODELS, classify, classify_endpoint


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
        ("POST", "/v1/responses", None),
        ("POST", "/v1/messages", None),
        ("GET", "/healthz", None),
        ("POST", "/v1/chat/completions/extra", None),
        ("POST", "/api/embeddings", None),  # Ollama native, another body shape
        ("POST", "/api/v1/embeddings", EMBEDDINGS),  # OpenRouter-style prefix
    ],
)
def test_classify(method, path, resource):
    assert classify(method, path) is resource


def test_classify_endpoint_ignores_method():
    assert classify_endpoint("/v1/v1/models") is MODELS
    assert classify_endpoint("/v1/v1/chat/completions") is CHAT
    assert classify_endpoint("/api/generate") is None


def test_canonical_endpoint_matches_the_seed():
    assert CHAT.endpoint == "/v1/chat/completions"
