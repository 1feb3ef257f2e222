"""Canaries of every key shape, in every place a recording, a log line, a miss message or the report
could keep them, through a real mitmdump: none reaches disk or a log. Ordinary text that older shapes
took for keys replays byte for byte. A scripted upstream streams the answer split mid-key."""

from __future__ import annotations

import base64
import json

from llm_vcr.framings import sse

from ..e2e.harness import Mitmdump, ScriptedUpstream, sse_response
from ..unit.test_redaction import CANARIES, GITHUB_PAT, NOT_SECRETS
from .test_offline import curl

SPLIT_KEY = "sk-proj-SPLITCANARYabcdefghijklmnop0123456789"
B64_KEY = "sk-ant-api03-B64CANARYabcdefghijklmnop0123456789"
FRAGMENTS = ["CANARY", "IOSFODNN7", "MIIEpAIBAAKCAQEA"]  # in every canary; none may reach disk or a log


def request_body() -> dict:
    keys = [*CANARIES.values(), GITHUB_PAT]
    messages = [{"role": "user", "content": f"use {k} please"} for k in keys]
    messages += [
        {"role": "user", "content": "my key is " + SPLIT_KEY[:12]},
        {"role": "user", "content": SPLIT_KEY[12:]},
    ]
    return {"model": f"ft:my-model:{CANARIES['openai-key']}", "messages": messages, "stream": True}


def chunk(text: str) -> bytes:
    data = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(data).encode() + b"\n\n"


ANSWER = [
    "Your key ", SPLIT_KEY[:6], SPLIT_KEY[6:25], SPLIT_KEY[25:], " is leaked. ",
    "Encoded: " + base64.b64encode(f'{{"key": "{B64_KEY}"}}'.encode()).decode() + ". ",
    *(f"{text}. " for text in NOT_SECRETS),
]  # fmt: skip


def test_no_key_shape_reaches_disk_or_logs_and_ordinary_text_is_kept(tmp_path):
    up = ScriptedUpstream(
        {"/keys/" + CANARIES["google-api-key"] + "/v1/chat/completions": sse_response(
            *(chunk(t) for t in ANSWER), b"data: [DONE]\n\n")}
    )  # fmt: skip
    path = f"/keys/{CANARIES['google-api-key']}/v1/chat/completions?api-key={CANARIES['openai-key']}&x={GITHUB_PAT}"
    body = json.dumps(request_body())
    auth = ["-H", f"authorization: Bearer {CANARIES['openai-key']}", "-H", "content-type: application/json"]
    vcr_dir = tmp_path / "recs"
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", options=("vcr_report=" + str(tmp_path / "rec.json"),)) as p:
            live = curl("-x", p.url, *auth, "--data-binary", body, f"{up.url}{path}")
            live_body = _body(p, auth, body, up.url + path)
            record_log = p.log()
    finally:
        up.close()
    assert live.stdout.startswith("200") and SPLIT_KEY[:6] in live_body  # the client saw the live answer as sent
    files = list(vcr_dir.glob("*.json"))
    assert len(files) == 2 and not list(vcr_dir.glob("*.partial.json"))
    stored = "".join(f.read_text() for f in files)
    for where, text in (("recordings", stored), ("log", record_log), ("report", (tmp_path / "rec.json").read_text())):
        for fragment in FRAGMENTS:
            assert fragment not in text, (where, fragment)
    assert "REDACTED:openai-key:" in stored and "REDACTED:anthropic-key-base64:" in stored

    # Replay in a new process: the same request hits (the live request is redacted the same way), and the
    # answer reads as recorded: placeholders where keys were, ordinary text byte for byte.
    with Mitmdump(tmp_path, vcr_dir, "replay") as p:
        replayed = _body(p, auth, body, "http://api.openai.invalid" + path)
        missed = curl("-x", p.url, *auth, "--data-binary", body.replace("please", "now"),
                      "http://api.openai.invalid/v1/chat/completions")  # fmt: skip
        replay_log = p.log()
        report = p.stop()
    assert report["hits"] == 1 and report["misses"] == 1, replay_log
    text = "".join(json.loads(e.data)["choices"][0]["delta"]["content"] for e in sse.parse(replayed.encode())
                   if not e.is_done)  # fmt: skip
    assert text.startswith("Your key REDACTED:openai-key:") and " is leaked. " in text
    for sentence in NOT_SECRETS:
        assert f"{sentence}. " in text
    for fragment in FRAGMENTS:
        assert fragment not in replay_log and fragment not in missed.stdout
    assert "no recording matched" in replay_log


def _body(proxy, auth: list[str], body: str, url: str) -> str:
    import subprocess

    done = subprocess.run(["curl", "-sS", "-x", proxy.url, *auth, "--data-binary", body, url], capture_output=True,
                          text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    return done.stdout
