"""Gemini and Bedrock through their official SDKs (google-genai, boto3), unmodified, via `llm-vcr run`:
recorded against a server speaking their exact wire formats (tests/e2e/fake_apis.py: Gemini's JSON,
its JSON-array and SSE streams; Bedrock's JSON and AWS event streams with CRCs), then replayed in a
new process with identical visible output and the upstream untouched. Hostile framings (a bad CRC, a
truncated message) are kept partial, never replayed, and never crash the proxy."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ..e2e.fake_apis import FakeAPIs
from .conftest import run_cli

APPS = Path(__file__).parent / "apps"
KEYS = {
    "GEMINI_API_KEY": "AIzaSyCANARY0123456789abcdefghijklmnopq",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7CANARY1",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY1",
}


@pytest.fixture
def fake():
    up = FakeAPIs()
    yield up
    up.close()


@pytest.mark.parametrize(
    ("app", "files"),
    [
        # generate, stream (alt=sse), embed (batchEmbedContents), count tokens
        ("gemini_app.py", {"gemini_generateContent", "gemini_streamGenerateContent", "gemini_batchEmbedContents",
                           "gemini_countTokens"}),
        ("gemini_rest.py", {"gemini_streamGenerateContent"}),  # the JSON-array stream (no alt=sse)
        ("bedrock_app.py", {"bedrock_converse", "bedrock_converse-stream", "bedrock_invoke",
                            "bedrock_invoke-with-response-stream"}),
    ],
)  # fmt: skip
def test_an_sdk_records_then_replays_offline(app, files, installed, project, fake):
    shutil.copy(APPS / app, project / app)
    env = {"UPSTREAM": fake.url, **KEYS}
    status, recorded, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, app, **env)
    assert status == 0 and "0 missed" in err, err
    written = sorted((project / "recordings").glob("*.json"))
    assert {p.name.rsplit("-", 2)[0] for p in written} == files
    stored = "".join(p.read_text() for p in written)
    assert not any(key in stored for key in KEYS.values()) and "CANARY" not in stored
    served = len(fake.requests)

    status, replayed, err = run_cli(installed, project, "run", "--", sys.executable, app, **env)
    assert status == 0 and f"{len(written)} replayed, 0 missed" in err, err
    assert replayed == recorded
    assert len(fake.requests) == served
    status, out, _ = run_cli(installed, project, "verify")
    assert status == 0 and "0 with problems" in out, out
    if app == "bedrock_app.py":
        # boto3's own endpoint (https://bedrock-runtime.us-east-1.amazonaws.com), as a user's code calls it:
        # over HTTPS through the proxy, trusting its CA through AWS_CA_BUNDLE; answered offline.
        status, replayed, err = run_cli(installed, project, "run", "--", sys.executable, app, **KEYS)
        assert status == 0 and f"{len(written)} replayed, 0 missed" in err, err
        assert replayed == recorded and len(fake.requests) == served


@pytest.mark.parametrize("fault", ["bad-crc", "truncated"])
def test_a_broken_event_stream_is_kept_partial_and_never_replayed(fault, installed, project, fake):
    shutil.copy(APPS / "bedrock_app.py", project / "bedrock_app.py")
    fake.fault = fault  # the converse-stream answer is damaged
    record = ["run", "--mode", "record", "--set", "vcr_report=r.json", "--", sys.executable, "bedrock_app.py"]
    _, _, log = run_cli(installed, project, *record, command_fails=True, UPSTREAM=fake.url, **KEYS)  # boto3 may raise
    partial = list((project / "recordings").glob("bedrock_converse-stream-*.partial.json"))
    assert len(partial) == 1, log
    reason = json.loads(partial[0].read_text())["response"]["partial"]
    assert ("bad message CRC" in reason) if fault == "bad-crc" else ("ended inside a message" in reason), reason
    report = json.loads((project / "r.json").read_text())
    assert report["partial"] == 1 and report["recorded"] >= 1  # the converse before it; the proxy kept serving
    _, _, err = run_cli(installed, project, "run", "--", sys.executable, "bedrock_app.py", command_fails=True,
                        UPSTREAM=fake.url, **KEYS)  # fmt: skip
    assert "only partially" in err and "no recording matched POST bedrock:converse-stream" in err
