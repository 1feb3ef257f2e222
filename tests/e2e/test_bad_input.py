"""Bad input never crashes the proxy, never produces a recording that replays as complete."""

import json
import shutil
import subprocess

import pytest

from ..conftest import SEED
from .harness import Mitmdump, ScriptedUpstream, json_response, sse_response

CHUNK = b'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n'
MODELS = json_response(200, b'{"object":"list","data":[{"id":"m","object":"model","created":0,"owned_by":"o"}]}')


def curl(url: str, body: str | None = None, *args: str) -> subprocess.CompletedProcess:
    cmd = ["curl", "-sS", "-N", "--max-time", "20", *args, url]
    if body is not None:
        cmd += ["-H", "content-type: application/json", "--data-binary", body]
    return subprocess.run(cmd, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def faulty():
    up = ScriptedUpstream(
        {
            "/cut/v1/chat/completions": sse_response(CHUNK % b"Hel", CHUNK % b"lo", terminate=False),
            "/nodone/v1/chat/completions": sse_response(CHUNK % b"Hel"),
            "/garbled/v1/chat/completions": sse_response(
                CHUNK % b"ok", b"data: <html>502</html>\n\n", b"data: [DONE]\n\n"
            ),
            "/rejects/v1/chat/completions": json_response(400, b'{"error":{"message":"bad body"}}'),
            "/cut/v1/models": MODELS,
        }
    )
    yield up
    up.close()


@pytest.mark.parametrize("path", ["cut", "nodone", "garbled"])
def test_broken_streams_pass_through_and_are_kept_partial(path, faulty, vcr_dir, tmp_path):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": path}], "stream": True})
    with Mitmdump(tmp_path, vcr_dir, "record", reverse=faulty.url) as p:
        out = curl(f"{p.url}/{path}/v1/chat/completions", body)
        assert '"Hel"' in out.stdout or '"ok"' in out.stdout  # the client got what the upstream sent
        assert curl(f"{p.url}/cut/v1/models").stdout.startswith('{"object":"list"')  # still serving
    partial = list(vcr_dir.glob("chat_completions-*.partial.json"))
    assert len(partial) == 1 and not list(vcr_dir.glob("chat_completions-*[0-9].json"))
    reason = json.loads(partial[0].read_text())["response"]["partial"]
    assert ("before data: [DONE]" in reason) if path != "garbled" else ("event 1 is not JSON" in reason)

    with Mitmdump(tmp_path, vcr_dir, "replay", reverse=faulty.url) as p:
        out = curl(f"{p.url}/{path}/v1/chat/completions", body, "-w", "\n%{http_code}")
    assert out.stdout.endswith("404") and "no recording matched" in out.stdout  # never replayed as complete
    assert len(faulty.requests) == 2


def test_non_json_request_bodies(faulty, vcr_dir, tmp_path):
    with Mitmdump(tmp_path, vcr_dir, "record", reverse=faulty.url) as p:
        out = curl(f"{p.url}/rejects/v1/chat/completions", "{this is not json", "-w", "\n%{http_code}")
        assert out.stdout.endswith("400") and "bad body" in out.stdout  # passed through untouched
        log = p.log()
    assert faulty.requests[-1] == ("/rejects/v1/chat/completions", b"{this is not json")
    assert "not valid JSON" in log and list(vcr_dir.iterdir()) == []

    with Mitmdump(tmp_path, vcr_dir, "replay", reverse=faulty.url) as p:
        for body in ("{this is not json", "[1, 2, 3]", '"a string"'):
            out = curl(f"{p.url}/v1/chat/completions", body, "-w", "\n%{http_code}")
            assert out.stdout.endswith("400") and "cannot replay this request" in out.stdout
    assert len(faulty.requests) == 1  # replay never forwarded any of them


def test_corrupt_recordings_are_skipped_with_a_warning_naming_the_file(vcr_dir, tmp_path):
    shutil.copy(SEED, vcr_dir / SEED.name)
    (vcr_dir / "broken.json").write_text('{"request": {"url": "http://x/v1/chat/compl')
    (vcr_dir / "hand-edited.json").write_text(
        '{"request": {"url": "http://x/v1/chat/completions", "body": {}},'
        ' "response": {"is_streaming": true, "body": {"oops": 1}}}'
    )
    seed_body = json.dumps(json.loads(SEED.read_text())["request"]["body"])
    with Mitmdump(tmp_path, vcr_dir, "replay") as p:
        out = curl("http://api.openai.invalid/v1/chat/completions", seed_body, "-x", p.url)
        log = p.log()
    assert out.stdout.rstrip().endswith("data: [DONE]")
    assert "skipped recording" in log and "broken.json: not valid JSON" in log
    assert 'hand-edited.json: "response.body" of a streaming recording is not a list of chunks' in log
    assert "1 recordings in" in log and "2 skipped" in log
