"""OGX's google-genai recordings (SDK objects) read as the Gemini wire calls they stand for: for every one of
them, the converted request equals what the google-genai SDK itself sends for the recorded keyword arguments
(captured by a scripted local server: only the request matters here), so a live SDK call keys alike."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from llm_vcr.apis import gemini_sdk
from llm_vcr.matching.keys import canonical
from llm_vcr.store import read_file

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ogx-genai"
FILES = sorted(FIXTURES.rglob("*.json"))


@pytest.fixture(scope="module")
def sdk_wire():
    """(path, body) of the request the SDK sends for some keyword arguments."""
    seen: list[tuple[str, dict]] = []

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, json.loads(self.rfile.read(int(self.headers["content-length"])))))
            body = b'{"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"}}]}'
            stream = "stream" in self.path
            body = b"data: " + body + b"\r\n\r\n" if stream else body
            self.send_response(200)
            self.send_header("content-type", "text/event-stream" if stream else "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    client = genai.Client(vertexai=True, api_key="test", http_options=types.HttpOptions(base_url=base))

    def send(kwargs: dict, stream: bool) -> tuple[str, dict]:
        seen.clear()
        if stream:
            list(client.models.generate_content_stream(**kwargs))
        else:
            client.models.generate_content(**kwargs)
        return seen[0]

    yield send
    server.shutdown()


def test_all_151_recordings_are_read_as_gemini_calls():
    assert len(FILES) == 151
    for path in FILES:
        rec = read_file(path)
        assert rec.resource is not None and rec.resource.api == "gemini", path
        assert rec.partial is None and rec.key is not None


@pytest.mark.parametrize("path", FILES, ids=[p.name[:12] for p in FILES])
def test_the_converted_request_is_what_the_sdk_sends(path, sdk_wire):
    doc = json.loads(path.read_text())
    kwargs = {k: doc["request"]["body"].get(k) for k in ("model", "contents", "config")}
    stream = doc["request"]["url"].endswith("_stream")
    sent_path, sent_body = sdk_wire(kwargs, stream)
    model, body = gemini_sdk.wire_request(doc["request"]["body"])
    assert canonical(body) == canonical(sent_body)
    url, streams = gemini_sdk.wire_url(doc["request"]["url"], model)
    assert streams == stream and url.endswith(sent_path)


def test_responses_become_camel_case_without_the_sdk_fields_and_tool_arguments_stay_as_sent():
    sdk = {"sdk_http_response": {"headers": {}}, "automatic_function_calling_history": [],
           "candidates": [{"content": {"parts": [{"function_call": {"name": "f", "args": {"city_name": "Paris"}}}]},
                           "finish_reason": "STOP"}],
           "usage_metadata": {"prompt_token_count": 3}}  # fmt: skip
    assert gemini_sdk.wire_response(sdk) == {
        "candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {"city_name": "Paris"}}}]},
                        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 3},
    }  # fmt: skip
    with pytest.raises(ValueError, match="embed_content"):
        gemini_sdk.wire_url("vertexai:///embed_content", "m")
