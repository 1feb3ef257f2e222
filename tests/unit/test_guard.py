import pytest

from llm_vcr.apis import CHAT, classify, guard

from ..conftest import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "path",
    ["/V1/CHAT/COMPLETIONS", "/v1/Chat/Completions", "/v1/chat/completion%73", "/v1/chat/completion%2573",
     "/v1/chat/completions;x", "/v1/chat/completions/.", "/v1/chat/completions/", "/v1/x/../chat/completions",
     "//v1//chat/completions", "/openai/deployments/gpt/chat/completions?api-version=2024-10-21"],
)  # fmt: skip
def test_recognised_resources_spelled_differently_are_still_recognised(path):
    assert classify("POST", path) is CHAT


def test_normalisation_leaves_plain_paths_alone():
    assert guard.normalize_path("/v1/chat/completions") == "/v1/chat/completions"
    assert guard.normalize_path("/v1beta/models/gemini-2.0-flash:generateContent?alt=sse") == (
        "/v1beta/models/gemini-2.0-flash:generatecontent"
    )


@pytest.mark.parametrize(
    ("host", "path", "what"),
    [
        ("x", "/v1/audio/speech", "OpenAI audio"),
        ("x", "/openai/deployments/whisper/audio/transcriptions", "OpenAI audio"),
        ("x", "/v1/images/generations", "OpenAI images"),
        ("x", "/v1/files/file-1/content", "OpenAI files"),
        ("x", "/v1/realtime?model=gpt-realtime", "OpenAI Realtime"),
        ("x", "/v1/responses/resp_1/input_items", "OpenAI Responses"),
        ("x", "/v1/messages/count_tokens", "Anthropic token counting"),
        ("x", "/api/pull", "Ollama"),
        ("x", "/v1/models/gemini-pro:streamGenerateContent", "Gemini"),
        ("x", "/v1/projects/p/locations/l/publishers/google/models/m:generateContent", "Gemini"),
        ("x", "/model/amazon.nova-lite-v1:0/converse-stream", "Bedrock"),
        ("x", "/v2/chat", "Cohere"),
        ("api.openai.com", "/anything", "api.openai.com"),
        ("my-res.openai.azure.com", "/x", "my-res.openai.azure.com"),
        ("bedrock-runtime.eu-west-1.amazonaws.com", "/x", "bedrock-runtime"),
        ("us-central1-aiplatform.googleapis.com", "/x", "aiplatform"),
        ("API.Anthropic.COM.", "/x", "anthropic"),
    ],
)
def test_llm_calls_are_recognised(host, path, what):
    verdict = guard.llm_call(host, path)
    assert verdict is not None and what.lower() in verdict.what.lower()


@pytest.mark.parametrize(
    ("host", "path"),
    [("example.com", "/health"), ("example.com", "/api/users"), ("example.com", "/v2/things"),
     ("localhost", "/static/app.js"), ("openai.example.com", "/index.html"), ("example.com", "/files/report.pdf")],
)  # fmt: skip
def test_ordinary_traffic_is_not(host, path):
    assert guard.llm_call(host, path) is None


def test_upstreams_of_the_run_are_llm_hosts_on_every_path():
    verdict = guard.llm_call("127.0.0.1", "/health", {("127.0.0.1", 8000)}, 8000)
    assert verdict is not None and verdict.host_only
    assert guard.llm_call("127.0.0.1", "/health", {("127.0.0.1", 8000)}, 9000) is None


def test_telemetry_is_told_apart():
    verdict = guard.llm_call("api.openai.com", "/v1/traces/ingest")
    assert verdict is not None and verdict.telemetry


def test_the_readme_lists_every_host_and_rule():
    for host in guard.LLM_HOSTS:
        assert f"`{host}`" in README, host
    for what, _ in guard.LLM_PATHS:
        assert what.split(" ")[0] in README, what
