"""Real agent frameworks, unmodified, through `llm-vcr run`: each scenario is recorded in one process
and replayed in a new one (new random ids, new cache keys), and every request must hit with the same
visible output (tool calls, turns, final text).

The upstream is `FakeLLM` (tests/e2e/fake_llm.py), a scripted OpenAI-compatible server that takes
tool turns every time and speaks the Responses API: the real engine does neither reliably. A control
replays with the built-in rules off, to show which frameworks need them (the test can fail)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ..e2e.fake_llm import FakeLLM
from ..e2e.harness import ROOT
from .conftest import run_cli

APPS = Path(__file__).parent / "apps"
NODE_MODULES = ROOT / "tests" / "clients" / "node" / "node_modules"

# name: (command, needs the rules (misses without them), extra `llm-vcr run` arguments while recording)
SCENARIOS = {
    "openai-agents": ([sys.executable, "agents_sdk_app.py"], True, "official"),
    "pydantic-ai": ([sys.executable, "pydantic_ai_app.py"], True, ""),
    "vercel-ai-sdk": (["node", "vercel_ai_app.mjs"], True, ""),
    "langchain": ([sys.executable, "langchain_app.py"], False, ""),
}


@pytest.fixture
def fake():
    up = FakeLLM()
    yield up
    up.close()


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_framework_replays_in_a_new_process(name, installed, project, fake):
    command, needs_rules, mode = SCENARIOS[name]
    shutil.copy(APPS / command[1], project / command[1])
    if command[0] == "node":
        (project / "node_modules").symlink_to(NODE_MODULES)  # as after npm install
    env = {"UPSTREAM": fake.url, "OPENAI_API_KEY": "sk-test-key-for-the-fake-upstream-0123456789"}
    record = ["run", "--mode", "record"]
    if mode == "official":
        # The Agents SDK's default: the official base URL, through the regular proxy (no code change);
        # mitmproxy's map_remote sends the official host to the local upstream while recording.
        record += ["--set", f"map_remote=|https://api.openai.com|{fake.url}"]
    status, recorded, err = run_cli(installed, project, *record, "--", *command, **env)
    assert status == 0 and "FINAL" in recorded, err
    llm_calls = len(fake.llm_requests())
    assert llm_calls >= 2 and f"{llm_calls} recorded" in err, err
    if name == "openai-agents":
        sent = [b for p, b in fake.llm_requests()]
        assert all(b.get("prompt_cache_key", "").startswith("agents-sdk:run:") for b in sent), sent
        assert any(p.endswith("/traces/ingest") for p, _ in fake.requests)  # tracing was on, and recorded nothing
        assert not [f for f in (project / "recordings").rglob("*.json") if "traces" in f.name]
    fake.forwarding = False
    before = len(fake.requests)

    # Control: without the built-in rules, the frameworks that put random values in requests miss.
    (project / "llm-vcr.toml").write_text("builtin_rules = false\n")
    status, _, err = run_cli(installed, project, "run", "--set", "vcr_report=control.json", "--", *command,
                             command_fails=needs_rules, **env)  # fmt: skip
    control = json.loads((project / "control.json").read_text())
    assert (control["misses"] > 0) == needs_rules, (control, err)
    (project / "llm-vcr.toml").unlink()

    status, replayed, err = run_cli(installed, project, "run", "--set", "vcr_report=report.json", "--", *command,
                                    **env)  # fmt: skip
    report = json.loads((project / "report.json").read_text())
    assert status == 0 and report["misses"] == 0 and report["hits"] == llm_calls, (report, err)
    assert replayed == recorded  # the same tool calls, turns and final text
    assert len(fake.requests) == before  # nothing reached the upstream
    if name == "openai-agents":
        assert report["telemetry"] >= 1  # traces answered locally
