"""Faulty upstreams while recording: resets, stalls, 429/5xx. What the client sees passes through;
what is stored follows the policy: errors are recordings (replayed in order), broken streams are
partial (kept, never replayed), and the proxy keeps serving."""

import json
import subprocess

import openai

from ..e2e.harness import Mitmdump, ScriptedUpstream, json_response, sse_response
from ..e2e.scenarios import client
from .upstream import chunk

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
OK = json.dumps(
    {
        "id": "ok-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}],
    }
).encode()


def test_reset_and_stall(tmp_path):
    up = ScriptedUpstream(
        {
            "/reset/v1/chat/completions": [],  # accepts, then closes without a byte
            "/stall/v1/chat/completions": [*sse_response(chunk("s", 0))[:2], 30],  # one event, then silence
            "/v1/models": json_response(200, b'{"object":"list","data":[]}'),
        }
    )
    body = json.dumps({**CHAT, "stream": True})
    vcr_dir = tmp_path / "recs"
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            reset = subprocess.run(
                [
                    "curl",
                    "-sS",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-d",
                    body,
                    f"{p.url}/reset/v1/chat/completions",
                ],
                capture_output=True,
                text=True,
            )
            stall = subprocess.run(
                ["curl", "-sS", "-N", "--max-time", "2", "-d", body, f"{p.url}/stall/v1/chat/completions"],
                capture_output=True,
                text=True,
            )
            alive = subprocess.run(["curl", "-sS", f"{p.url}/v1/models"], capture_output=True, text=True)
        report = p.stop()
    finally:
        up.close()
    assert reset.stdout == "502"  # mitmproxy's answer to a dead upstream reaches the client
    assert stall.returncode == 28 and '"s:0 "' in stall.stdout  # client timed out after the first event
    assert json.loads(alive.stdout) == {"object": "list", "data": []}  # still serving
    assert [p.name.endswith(".partial.json") for p in vcr_dir.glob("chat_completions-*")] == [True]
    assert report["partial"] == 1 and report["recorded"] == 1  # the stall kept partial; the models list


def test_rate_limits_and_5xx_replay_in_order_to_the_sdk_retry_logic(tmp_path):
    answers = iter(
        [
            (
                429,
                b'{"error":{"message":"slow down","type":"rate_limit"}}',
                {"retry-after": "1", "x-ratelimit-remaining-requests": "0"},
            ),
            (503, b'{"error":{"message":"overloaded","type":"server_error"}}', {}),
            (200, OK, {}),
        ]
    )

    def script(body: bytes) -> list[bytes]:
        status, payload, headers = next(answers)
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        return [
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s"
            % (status, extra, len(payload), payload)
        ]

    up = ScriptedUpstream({"/v1/chat/completions": script})
    vcr_dir = tmp_path / "recs"
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            sdk = client(f"{p.url}/v1").with_options(max_retries=2)
            live = sdk.chat.completions.with_raw_response.create(**CHAT)
        files = sorted(vcr_dir.glob("*.json"))
        assert [json.loads(f.read_text())["response"].get("status", 200) for f in files] == [429, 503, 200]
        assert json.loads(files[0].read_text())["response"]["headers"] == {
            "content-type": "application/json",
            "retry-after": "1",
            "x-ratelimit-remaining-requests": "0",
        }

        with Mitmdump(tmp_path, vcr_dir, "replay", reverse=up.url) as p:
            sdk = client(f"{p.url}/v1").with_options(max_retries=2)
            replayed = sdk.chat.completions.with_raw_response.create(**CHAT)
            assert replayed.retries_taken == live.retries_taken == 2  # the SDK saw 429, 503, then 200
            assert replayed.parse().choices[0].message.content == "fine"
            sdk = client(f"{p.url}/v1")  # no retries: the sequence is exhausted, the last (200) repeats
            assert sdk.chat.completions.create(**CHAT).id == "ok-1"
        assert len(up.requests) == 3
    finally:
        up.close()


def test_a_replayed_rate_limit_reaches_a_client_without_retries_as_the_same_error(tmp_path):
    up = ScriptedUpstream(
        {
            "/v1/chat/completions": [
                b"HTTP/1.1 429 X\r\ncontent-type: application/json\r\n"
                b"retry-after: 7\r\ncontent-length: 28\r\n\r\n"
                b'{"error":{"message":"slow"}}'
            ]
        }
    )
    vcr_dir = tmp_path / "recs"
    try:
        errors = []
        for mode in ("record", "replay"):
            with Mitmdump(tmp_path, vcr_dir, mode, reverse=up.url) as p:
                try:
                    client(f"{p.url}/v1").chat.completions.create(**CHAT)
                except openai.RateLimitError as e:
                    errors.append((e.status_code, e.response.headers["retry-after"], e.body))
        assert errors[0] == errors[1] == (429, "7", {"message": "slow"})
        assert len(up.requests) == 1
    finally:
        up.close()
