"""Which requests are LLM traffic: OpenAI-compatible resources recognised by path suffix.

Any host and any prefix qualify (`/v1/…`, Azure's `/openai/deployments/X/…?api-version=…`,
llama-stack's `/v1/openai/v1/…`), so the resource, not the URL, identifies the call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # "chat/completions", the path suffix and the matching identity
    methods: tuple[str, ...]
    has_body: bool

    @property
    def endpoint(self) -> str:
        """The canonical endpoint written to recordings, as in the seed (`/v1/chat/completions`)."""
        return f"/v1/{self.name}"


CHAT = Resource("chat/completions", ("POST",), True)
COMPLETIONS = Resource("completions", ("POST",), True)
EMBEDDINGS = Resource("embeddings", ("POST",), True)
MODELS = Resource("models", ("GET",), False)

# Longest suffix first: "chat/completions" must win over "completions".
_BY_SUFFIX: tuple[tuple[str, Resource], ...] = (
    ("/chat/completions", CHAT),
    ("/completions", COMPLETIONS),
    ("/embeddings", EMBEDDINGS),
    ("/models", MODELS),
)
BY_NAME: dict[str, Resource] = {r.name: r for _, r in _BY_SUFFIX}

# Same suffix, another API: Ollama's native embeddings take {"prompt": …}, not OpenAI's body.
_NOT_OPENAI = ("/api/embeddings",)


def classify(method: str, path: str) -> Resource | None:
    """The resource a request is for, or None for traffic that passes through untouched."""
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    method = method.upper()
    if path in _NOT_OPENAI:
        return None
    for suffix, resource in _BY_SUFFIX:
        if path.endswith(suffix) or path == suffix[1:]:
            return resource if method in resource.methods else None
    return None


def classify_endpoint(endpoint: str) -> Resource | None:
    """Like `classify`, for a stored recording whose method may not be the wire one.

    Recorders such as llama-stack's store `GET /models` as `POST` with an empty body.
    """
    path = endpoint.split("?", 1)[0].rstrip("/")
    if path in _NOT_OPENAI:
        return None
    for suffix, resource in _BY_SUFFIX:
        if path.endswith(suffix):
            return resource
    return None
