"""What replay must never forward: LLM API hosts and LLM-shaped paths, in one place.

Replay answers the calls it knows from recordings. Everything else that looks like an LLM API call
(an endpoint llm-vcr does not replay yet, any request to a well-known LLM API host, a recognised
resource spelled differently) is answered locally with a 4xx too, whatever the connection order:
with a real key in CI, a forwarded request is a paid call. The README lists these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import unquote

# Hosts of LLM APIs: never contacted in replay mode, whatever the path.
LLM_HOSTS: tuple[str, ...] = (
    "api.openai.com", "*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com", "aiplatform.googleapis.com", "*-aiplatform.googleapis.com",
    "bedrock-runtime.*.amazonaws.com", "bedrock-runtime-fips.*.amazonaws.com",
    "api.mistral.ai", "api.groq.com", "api.together.xyz", "api.together.ai", "api.fireworks.ai",
    "openrouter.ai", "api.deepseek.com", "api.x.ai", "api.cohere.ai", "api.cohere.com", "api.perplexity.ai",
    "ollama.com",
)  # fmt: skip

# LLM-shaped paths on any host: (what it is, pattern on the normalised path). A path of these is
# answered locally in replay mode even on a host not listed above (a proxy, a gateway, localhost).
_API = r"(?:^|/)(?:v1|openai(?:/deployments/[^/]+)?)"
LLM_PATHS: tuple[tuple[str, str], ...] = (
    ("OpenAI audio", _API + r"/audio/(?:speech|transcriptions|translations)$"),
    ("OpenAI images", _API + r"/images/(?:generations|edits|variations)$"),
    ("OpenAI files", _API + r"/files(?:/|$)"),
    ("OpenAI uploads", _API + r"/uploads(?:/|$)"),
    ("OpenAI batches", _API + r"/batches(?:/|$)"),
    ("OpenAI moderations", _API + r"/moderations$"),
    ("OpenAI Realtime", _API + r"/realtime(?:/|$)"),
    ("OpenAI Responses (stored responses)", _API + r"/responses/"),
    ("OpenAI stored chat completions", _API + r"/chat/completions/"),
    ("OpenAI conversations", _API + r"/conversations(?:/|$)"),
    ("OpenAI vector stores", _API + r"/vector_stores(?:/|$)"),
    ("OpenAI assistants", _API + r"/assistants(?:/|$)"),
    ("OpenAI threads", _API + r"/threads(?:/|$)"),
    ("OpenAI fine-tuning", _API + r"/fine_tuning(?:/|$)"),
    ("OpenAI containers", _API + r"/containers(?:/|$)"),
    ("OpenAI evals", _API + r"/evals(?:/|$)"),
    ("OpenAI traces", _API + r"/traces(?:/|$)"),
    ("Anthropic token counting", r"(?:^|/)v1/messages/count_tokens$"),
    ("Anthropic message batches", r"(?:^|/)v1/messages/batches(?:/|$)"),
    ("Anthropic text completions", r"(?:^|/)v1/complete$"),
    ("Ollama", r"(?:^|/)api/(?:show|pull|push|ps|version|create|copy|delete|blobs(?:/.*)?)$"),
    ("Gemini", r"/models/[^/]+:(?:generatecontent|streamgeneratecontent|embedcontent|batchembedcontents|"
               r"counttokens|predict|predictlongrunning|batchgeneratecontent)$"),
    ("Gemini files and caches", r"(?:^|/)v1(?:alpha|beta)?/(?:files|cachedcontents|tunedmodels)(?:/|$)"),
    ("Bedrock", r"(?:^|/)(?:model/[^/]+/(?:converse|converse-stream|invoke|invoke-with-response-stream|invoke-async)|"
                r"async-invoke)(?:/|$)"),
    ("Cohere", r"(?:^|/)v[12]/(?:chat|embed|rerank|generate|classify|tokenize)$"),
)  # fmt: skip
_PATHS = [(what, re.compile(rx)) for what, rx in LLM_PATHS]

# Telemetry of LLM SDKs: answered locally with success in replay mode, never recorded or forwarded.
TELEMETRY: tuple[tuple[str, str], ...] = (
    ("OpenAI Agents SDK traces", _API + r"/traces/ingest$"),
    ("LangSmith runs", r"(?:^|/)(?:api/v1/)?runs/(?:batch|multipart)$"),
)
TELEMETRY_HOSTS: tuple[str, ...] = ("api.smith.langchain.com", "*.api.smith.langchain.com", "smith.langchain.com")
_TELEMETRY = [(what, re.compile(rx)) for what, rx in TELEMETRY]


def normalize_path(path: str) -> str:
    """The path as a server would route it, for comparisons: no query or fragment, `;params` and
    percent-encoding undone, `.`/`..`/empty segments resolved, lower case, no trailing slash."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not _PLAIN.fullmatch(path):
        for _ in range(3):  # %2573 -> %73 -> s: decode until stable
            decoded = unquote(path)
            if decoded == path:
                break
            path = decoded
        out: list[str] = []
        for seg in path.split("/"):
            seg = seg.split(";", 1)[0]
            if seg in ("", "."):
                continue
            if seg == "..":
                if out:
                    out.pop()
                continue
            out.append(seg)
        path = "/" + "/".join(out)
    return path.lower().rstrip("/")


_PLAIN = re.compile(r"(?:/[A-Za-z0-9_:\-]+(?:\.[A-Za-z0-9_\-]+)*)*/?")  # nothing to normalise but a trailing "/"


def is_llm_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatchcase(host, pattern) for pattern in LLM_HOSTS)


@dataclass(frozen=True, slots=True)
class Verdict:
    what: str  # the endpoint in words, e.g. "OpenAI audio" or "a request to api.openai.com"
    telemetry: bool = False  # answer with success rather than an error
    host_only: bool = False  # decided by the host alone (any path of an LLM API host or upstream)


def llm_call(
    host: str, path: str, upstreams: frozenset[tuple[str, int]] | set[tuple[str, int]] = frozenset(), port: int = 0
) -> Verdict | None:
    """Why a request that llm-vcr does not replay must still not be forwarded in replay mode, or None.

    `upstreams`: (host, port) pairs that are LLM APIs in this run (reverse-proxy targets, hosts of
    LLM requests seen so far)."""
    norm = normalize_path(path)
    for what, rx in _TELEMETRY:
        if rx.search(norm):
            return Verdict(what, telemetry=True)
    if any(fnmatchcase(host.lower().rstrip("."), pattern) for pattern in TELEMETRY_HOSTS):
        return Verdict("LangSmith", telemetry=True)
    for what, rx in _PATHS:
        if rx.search(norm):
            return Verdict(what)
    if is_llm_host(host):
        return Verdict(f"a request to the LLM API host {host}", host_only=True)
    if (host.lower(), port) in upstreams:
        return Verdict(f"a request to {host}:{port}, an LLM upstream of this run", host_only=True)
    return None
