"""Five real clients (Python and Node SDKs, Go net/http, Java java.net.http, curl), none of which knows
about llm-vcr, wrapped by `llm-vcr run`: record from the real engine, then replay with the upstream gone.

Regular mode goes over HTTPS (the engine behind a TLS terminator with a test CA) with the mitmproxy CA
trusted only through the environment `llm-vcr run` sets; reverse mode only changes the base URL.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import ROOT, CountingRelay, clean_env, make_tls
from .scenarios import API_KEY

pytestmark = pytest.mark.engine

CLIENTS = ROOT / "tests" / "clients"
LANGS = ["python", "node", "go", "java", "curl"]
HOSTNAME = socket.gethostname()  # not "localhost" nor an IP literal: Go refuses to proxy those


@pytest.fixture(scope="module")
def toolchains(tmp_path_factory) -> dict[str, list[str]]:
    """How to start each client; scripts/test installs what is missing, here we only check and build."""
    for tool in ("node", "go", "java", "curl"):
        assert shutil.which(tool), f"{tool} is not installed: run scripts/test, which installs it"
    assert (CLIENTS / "node" / "node_modules" / "openai").is_dir(), "run scripts/test (npm ci in tests/clients/node)"
    go_bin = tmp_path_factory.mktemp("go") / "client"
    subprocess.run(
        ["go", "build", "-o", str(go_bin), "."],
        cwd=CLIENTS / "go",
        check=True,
        env=clean_env(GOFLAGS="-mod=mod", GOCACHE=str(go_bin.parent / "cache")),
    )
    return {
        "python": [sys.executable, str(CLIENTS / "python" / "client.py")],
        "node": ["node", str(CLIENTS / "node" / "client.mjs")],
        "go": [str(go_bin)],
        "java": ["java", str(CLIENTS / "java" / "Client.java")],
        "curl": ["bash", str(CLIENTS / "curl" / "client.sh")],
    }


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    assert socket.gethostbyname(HOSTNAME).startswith("127."), f"{HOSTNAME} must resolve to loopback"
    return make_tls(tmp_path_factory.mktemp("tls"), HOSTNAME)


def tls_relay(engine, tls) -> CountingRelay:
    return CountingRelay("127.0.0.1", int(engine.url.rsplit(":", 1)[1]), tls=tls[0])


def run_client(
    cmd: list[str], lang: str, mode: str, vcr_dir: Path, relay: CountingRelay, tls, reverse: bool, confdir: Path
) -> dict:
    """`llm-vcr run [--upstream …] -- <client>`: returns what the client printed, parsed."""
    upstream = f"https://{HOSTNAME}:{relay.port}"
    wrapper = [
        sys.executable,
        "-m",
        "llm_vcr.cli",
        "run",
        "--mode",
        mode,
        "--dir",
        str(vcr_dir),
        "--confdir",
        str(confdir),
        "--set",
        f"ssl_verify_upstream_trusted_ca={tls[1]}",
    ]
    if reverse:
        wrapper += ["--upstream", upstream]
    env = clean_env(
        PYTHONPATH=str(ROOT),
        OPENAI_API_KEY=API_KEY,
        CLIENT_REQUESTS=str(CLIENTS / "requests"),
        OPENAI_BASE_URL=f"{upstream}/v1",
    )  # reverse mode: llm-vcr run points it at the proxy
    for var in ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS", "CURL_CA_BUNDLE"):
        env.pop(var, None)  # trust must come from llm-vcr run alone
    done = subprocess.run(
        [*wrapper, "--", *cmd], capture_output=True, text=True, env=env, timeout=240, cwd=CLIENTS / lang
    )
    assert done.returncode == 0, f"{lang} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return parse(done.stdout) | {"summary": done.stderr.strip().splitlines()[-1]}


def parse(stdout: str) -> dict:
    out: dict = {}
    for line in stdout.splitlines():
        name, kind, *rest = line.split(" ", 2)
        s = out.setdefault(name, {"data": [], "done": False})
        if kind == "STATUS":
            s["status"] = int(rest[0])
        elif kind == "DATA":
            s["data"].append(json.loads(rest[0]))
        elif kind == "BODY":
            s["body"] = json.loads(rest[0])
        elif kind == "DONE":
            s["done"] = True
    return out


def results(out: dict) -> dict:
    return {k: v for k, v in out.items() if k != "summary"}


def check_meaningful(out: dict) -> None:
    assert all(out[s]["status"] == 200 for s in ("stream", "tool_stream", "chat", "embeddings"))
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in out["stream"]["data"] if c["choices"])
    assert text.strip() and out["stream"]["done"] and out["tool_stream"]["done"]
    args, name = "", None
    for c in out["tool_stream"]["data"]:
        for tc in c["choices"][0]["delta"].get("tool_calls") or []:
            name = name or tc["function"].get("name")
            args += tc["function"].get("arguments") or ""
    assert name == "get_weather" and "city" in json.loads(args)
    assert out["tool_stream"]["data"][-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert out["chat"]["body"]["choices"][0]["message"]["content"]
    assert len(out["embeddings"]["body"]["data"][0]["embedding"]) == 576


@pytest.mark.parametrize("reverse", [False, True], ids=["regular-https", "reverse"])
@pytest.mark.parametrize("lang", LANGS)
def test_record_then_replay_offline(lang, reverse, toolchains, engine, tls, tmp_path):
    relay = tls_relay(engine, tls)
    vcr_dir, confdir = tmp_path / "recordings", tmp_path / "conf"
    try:
        recorded = run_client(toolchains[lang], lang, "record", vcr_dir, relay, tls, reverse, confdir)
        check_meaningful(recorded)
        assert relay.connections > 0 and "0 replayed, 0 missed, 4 recorded" in recorded["summary"]
        assert not any(API_KEY in p.read_text() for p in vcr_dir.glob("*.json"))
        relay.forwarding = False
        before = relay.connections
        replayed = run_client(toolchains[lang], lang, "replay", vcr_dir, relay, tls, reverse, confdir)
        assert relay.connections == before, "replay contacted the upstream"
        assert results(replayed) == results(recorded)
        assert "4 replayed, 0 missed, 0 recorded" in replayed["summary"]
    finally:
        relay.close()


@pytest.fixture(scope="module")
def python_recordings(toolchains, engine, tls, tmp_path_factory):
    work = tmp_path_factory.mktemp("python-recordings")
    relay = tls_relay(engine, tls)
    try:
        out = run_client(toolchains["python"], "python", "record", work / "rec", relay, tls, False, work / "conf")
    finally:
        relay.close()
    check_meaningful(out)
    return work / "rec", results(out)


@pytest.mark.parametrize("lang", ["node", "go", "java", "curl"])
def test_recordings_made_by_python_replay_to_other_languages(
    lang, python_recordings, toolchains, engine, tls, tmp_path
):
    vcr_dir, expected = python_recordings
    relay = tls_relay(engine, tls)
    relay.forwarding = False
    try:
        out = run_client(toolchains[lang], lang, "replay", vcr_dir, relay, tls, False, tmp_path / "conf")
    finally:
        relay.close()
    assert relay.connections == 0
    assert results(out) == expected  # same chunks, tool calls, finish reasons and text, byte for byte parsed
