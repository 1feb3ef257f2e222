"""The llm content view and the flow annotations, through a real mitmweb and its REST API."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ..reliability.upstream import chunk
from .harness import ADDON_DIR, ROOT, ScriptedUpstream, clean_env, free_port, sse_response

PASSWORD = "llm-vcr-test"
TOOL = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


def tool_chunk(args: str, finish: str | None = None) -> bytes:
    data = {
        "object": "chat.completion.chunk",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{**TOOL, "function": {**TOOL["function"], "arguments": args}}]},
                "finish_reason": finish,
            }
        ],
    }
    return b"data: " + json.dumps(data).encode() + b"\n\n"


class Mitmweb:
    def __init__(self, tmp: Path, mode: str, upstream: str) -> None:
        self.web_port = free_port()
        self.port_file = tmp / f"port-{mode}.json"
        cmd = [
            str(Path(sys.executable).parent / "mitmweb"),
            "--mode",
            f"reverse:{upstream}@127.0.0.1:0",
            "--web-port",
            str(self.web_port),
            "--set",
            "web_open_browser=false",
            "--set",
            f"web_password={PASSWORD}",
            "--set",
            f"confdir={tmp / 'conf'}",
            "-s",
            str(ADDON_DIR / "llm_vcr.py"),
            "--set",
            f"vcr_mode={mode}",
            "--set",
            f"vcr_dir={tmp / 'recs'}",
            "--set",
            f"vcr_port_file={self.port_file}",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=clean_env())
        deadline = time.monotonic() + 30
        while not (self.port_file.exists() and self._web_up()):
            assert self.proc.poll() is None and time.monotonic() < deadline, "mitmweb did not start"
            time.sleep(0.1)
        self.port = json.loads(self.port_file.read_text())[0][1]

    def _web_up(self) -> bool:
        try:
            self.get("/flows")
            return True
        except OSError:
            return False

    def get(self, path: str) -> object:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}", headers={"Authorization": f"Bearer {PASSWORD}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def post(port: int, body: dict) -> bytes:
    return subprocess.run(
        [
            "curl",
            "-sS",
            "-N",
            f"http://127.0.0.1:{port}/v1/chat/completions",
            "-H",
            "content-type: application/json",
            "-d",
            json.dumps(body),
        ],
        capture_output=True,
        check=True,
    ).stdout


@pytest.fixture
def upstream():
    stream = sse_response(
        chunk("w", 0), tool_chunk('{"city": '), tool_chunk('"Paris"}', "tool_calls"), b"data: [DONE]\n\n"
    )
    up = ScriptedUpstream({"/v1/chat/completions": stream})
    yield up
    up.close()


def flow_named(web: Mitmweb, comment_start: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for f in web.get("/flows"):
            if f.get("comment", "").startswith(comment_start):
                return f
        time.sleep(0.1)
    raise AssertionError(f"no flow commented {comment_start!r}: {[f.get('comment') for f in web.get('/flows')]}")


def test_view_and_annotations_in_mitmweb(tmp_path, upstream):
    body = {"model": "m", "messages": [{"role": "user", "content": "weather?"}], "stream": True}
    web = Mitmweb(tmp_path, "record", upstream.url)
    try:
        post(web.port, body)
        f = flow_named(web, "llm-vcr: recorded to chat_completions-")
        assert f["marked"] == "💾"  # mitmweb shows the :floppy_disk: marker as its emoji
        view = web.get(f"/flows/{f['id']}/response/content/llm.json")
        text = view["text"] if "text" in view else json.dumps(view)
        assert "chunks: 3" in text and "tool call: get_weather" in text and '"city": "Paris"' in text
        assert "finish reason: tool_calls" in text
        auto = web.get(f"/flows/{f['id']}/response/content/auto.json")
        assert auto.get("view_name", "").lower() == "llm"  # chosen automatically for LLM flows
    finally:
        web.stop()

    web = Mitmweb(tmp_path, "replay", upstream.url)
    try:
        post(web.port, body)
        post(web.port, {**body, "messages": [{"role": "user", "content": "other"}]})
        assert flow_named(web, "llm-vcr: replayed from chat_completions-")["marked"] == "🔁"
        miss = flow_named(web, "llm-vcr: no recording matched")
        assert miss["marked"] == "❌" and "turn 1 (user): content differs" in miss["comment"]
    finally:
        web.stop()


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chrome'}",
        "--window-size=1280,800",
        "--virtual-time-budget=8000",
    ]
    return subprocess.run(["chromium", *flags, *args], capture_output=True, text=True, timeout=90)


def test_a_browser_renders_the_llm_view(tmp_path, upstream):
    """Headless Chromium on mitmweb's page for a recorded stream; also makes the README's screenshot."""
    web = Mitmweb(tmp_path, "record", upstream.url)
    try:
        post(web.port, {"model": "m", "messages": [{"role": "user", "content": "weather?"}], "stream": True})
        f = flow_named(web, "llm-vcr: recorded to chat_completions-")
        url = f"http://127.0.0.1:{web.web_port}/?token={PASSWORD}#/flows/{f['id']}/response"
        dom = chromium("--dump-dom", url, tmp=tmp_path).stdout
        shot = tmp_path / "mitmweb-llm-view.png"
        chromium(f"--screenshot={shot}", url, tmp=tmp_path)
    finally:
        web.stop()
    assert "tool call: get_weather" in dom and "finish reason: tool_calls" in dom  # rendered in a real browser
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("LLM_VCR_UPDATE_DOCS"):  # refresh the README's picture (it differs on every run)
        (ROOT / "docs" / shot.name).write_bytes(shot.read_bytes())
