"""WebSocket sessions through `llm-vcr run`, from a user's project with the installed package: the
openai SDK's Realtime client and the `websockets` package (Realtime events, binary and non-JSON
messages, the Responses API's WebSocket mode), recorded against a scripted WebSocket server
(tests/e2e/fake_realtime.py, fresh ids on every connection), then replayed in a new process with the
server stopped: identical output, and nothing dialled."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ..e2e.fake_realtime import FakeRealtime
from .conftest import run_cli

APPS = Path(__file__).parent / "apps"
KEY = "sk-proj-CANARYrealtime0123456789abcdefABCD"


@pytest.fixture
def fake():
    up = FakeRealtime()
    yield up
    up.close()


@pytest.mark.parametrize(
    ("app", "files", "timing"),
    [
        ("realtime_app.py", {"realtime"}, "none"),
        ("websockets_app.py", {"realtime", "responses-websocket"}, "real"),  # at the recorded pace
    ],
)
def test_a_session_records_then_replays_offline(app, files, timing, installed, project, fake):
    shutil.copy(APPS / app, project / app)
    env = {"UPSTREAM": fake.url, "OPENAI_API_KEY": KEY}
    status, recorded, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, app, **env)
    assert status == 0 and "0 missed" in err, err
    written = sorted((project / "recordings").glob("*.json"))
    assert {p.name.rsplit("-", 2)[0] for p in written} == files
    stored = "".join(p.read_text() for p in written)
    assert "CANARY" not in stored
    session = json.loads(written[0].read_text())
    assert session["response"]["websocket"]["close"]["code"] == 1000
    sides = {(m["__from__"], m["__type__"]) for m in session["response"]["body"]}
    assert {side for side, _ in sides} == {"client", "server"}
    if app == "realtime_app.py":  # typed in the SDK's names, both directions
        assert ("server", "openai.types.realtime.session_created_event.SessionCreatedEvent") in sides
        assert ("client", "openai.types.realtime.session_update_event.SessionUpdateEvent") in sides
    else:  # a binary message and a text message that is not JSON, kept as they were
        assert {"llm_vcr.generic.Bytes", "llm_vcr.generic.Text"} <= {t for _, t in sides}
    connections = len(fake.connections)
    fake.close()  # replay needs no server

    run = ["run", "--set", f"vcr_timing={timing}", "--set", "vcr_report=r.json", "--", sys.executable, app]
    status, replayed, err = run_cli(installed, project, *run, **env)
    assert status == 0 and f"{len(written)} replayed, 0 missed" in err, err
    assert replayed == recorded  # the recorded ids, not fresh ones: served from the files
    assert len(fake.connections) == connections
    report = json.loads((project / "r.json").read_text())
    assert report["blocked"] == 0 and report["unused"] == []


def test_a_session_that_diverges_is_a_loud_miss(installed, project, fake):
    shutil.copy(APPS / "realtime_app.py", project / "app.py")
    env = {"UPSTREAM": fake.url, "OPENAI_API_KEY": KEY}
    assert run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "app.py", **env)[0] == 0
    status, out, err = run_cli(installed, project, "run", "--", sys.executable, "app.py", command_fails=True,
                               QUESTIONS="What is the weather in Rome?", **env)  # fmt: skip
    assert status != 0
    # The client got an error event naming the message and the field that differs, then a close.
    assert "ERROR llm-vcr: client message 2 (conversation.item.create)" in out, out
    assert 'item.content[0].text (request "What is the weather in Rome?", recording "What is the weather in' in out
    assert "1 missed" in err, err


def test_a_dropped_session_is_kept_partial_and_never_replayed(installed, project, fake):
    shutil.copy(APPS / "websockets_app.py", project / "app.py")
    env = {"UPSTREAM": fake.url, "OPENAI_API_KEY": KEY}
    fake.drop_after = 1  # the first session's connection drops after session.created
    run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "app.py", command_fails=True, **env)
    partial = list((project / "recordings").glob("realtime-*.partial.json"))
    assert len(partial) == 1
    assert "without a close frame" in json.loads(partial[0].read_text())["response"]["partial"]
    status, _, err = run_cli(installed, project, "run", "--", sys.executable, "app.py", command_fails=True, **env)
    assert status != 0 and "only partially" in err, err
