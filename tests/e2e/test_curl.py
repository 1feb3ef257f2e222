"""curl through the proxy (regular mode, plain http): record from the engine, replay offline."""

import json
import subprocess

import pytest

from llm_vcr.framings import sse

from .harness import Mitmdump

pytestmark = pytest.mark.engine

BODY = json.dumps(
    {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Count to three."}],
        "stream": True,
        "temperature": 0,
        "max_tokens": 12,
    }
)


def curl_stream(proxy: str, url: str) -> list:
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-N",
            "--max-time",
            "60",
            "-x",
            proxy,
            url,
            "-H",
            "content-type: application/json",
            "-H",
            "authorization: Bearer sk-canary-curl",
            "--data-binary",
            BODY,
        ],
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    events = sse.parse(out.stdout)
    assert events and events[-1].is_done
    return [json.loads(e.data) for e in events[:-1]]


def test_curl_record_then_replay(upstream, vcr_dir, tmp_path):
    url = f"{upstream.url}/v1/chat/completions"
    with Mitmdump(tmp_path, vcr_dir, "record") as p:
        recorded = curl_stream(p.url, url)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in recorded if c["choices"]).strip()
    (path,) = vcr_dir.glob("chat_completions-*.json")
    assert "sk-canary-curl" not in path.read_text()
    assert [c["__data__"] for c in json.loads(path.read_text())["response"]["body"]] == recorded

    upstream.forwarding = False
    before = upstream.connections
    with Mitmdump(tmp_path, vcr_dir, "replay") as p:
        assert curl_stream(p.url, url) == recorded
    assert upstream.connections == before
