"""The README's workflows, typed as a user types them: in a fresh project folder outside the checkout,
with relative paths and defaults, through llm-vcr installed from a wheel into its own venv, against
the real engine (behind a relay that counts connections). Asserts on what the user sees: files on
disk, exit statuses, printed lines. Replays run in a new process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from llm_vcr.framings import sse

from ..e2e.harness import ROOT, CountingRelay, free_port, make_tls
from .conftest import run_cli

pytestmark = pytest.mark.engine
README = (ROOT / "README.md").read_text()
API_KEY = "sk-proj-ACCEPTANCEcanary0123456789abcdefghijklmnop"  # must reach no file and no output

AGENT = """\
import os
from openai import OpenAI

client = OpenAI(base_url=os.environ["AGENT_BASE_URL"])  # default retries, as users have them
stream = client.chat.completions.create(
    model="smollm2", messages=[{"role": "user", "content": "Name a colour."}], stream=True, max_tokens=8, temperature=0
)
print("STREAM", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))
r = client.chat.completions.create(
    model="smollm2", messages=[{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0
)
print("ANSWER", r.choices[0].message.content)
"""

MISS_AGENT = """\
import os, sys, time
import openai

client = openai.OpenAI(base_url=os.environ["AGENT_BASE_URL"])  # max_retries=2 by default
t0 = time.monotonic()
try:
    client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "Never recorded."}])
except openai.NotFoundError as e:
    print("RAISED", type(e).__name__, round(time.monotonic() - t0, 2), e.body.get("code"))
    sys.exit(1)
print("NO ERROR")
"""


def agent_env(upstream) -> dict[str, str]:
    return {"AGENT_BASE_URL": f"{upstream.url}/v1", "OPENAI_API_KEY": API_KEY}


def write_agent(project, text: str = AGENT, name: str = "agent.py") -> None:
    (project / name).write_text(text)


def no_key_anywhere(project, *outputs: str) -> None:
    for path in project.rglob("*"):
        if path.is_file():
            assert API_KEY not in path.read_text(errors="replace"), path
    for out in outputs:
        assert API_KEY not in out


def test_record_then_replay_with_the_default_folder(installed, project, upstream):
    write_agent(project)
    env = agent_env(upstream)
    status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "agent.py", **env)
    assert status == 0, err
    assert "llm-vcr: 0 replayed, 0 missed, 2 recorded (record mode, recordings)" in err
    files = sorted(p.name for p in (project / "recordings").glob("*.json"))
    assert len(files) == 2 and all(f.startswith("chat_completions-") for f in files), files
    assert out.startswith("STREAM ") and "\nANSWER " in out

    upstream.forwarding = False  # the upstream is gone; any attempt would still be counted
    before = upstream.connections
    status, replayed, err = run_cli(installed, project, "run", "--", sys.executable, "agent.py", **env)
    assert status == 0, err
    assert replayed == out
    assert "llm-vcr: 2 replayed, 0 missed, 0 recorded (replay mode, recordings)" in err
    assert upstream.connections == before
    no_key_anywhere(project, out, err)


def test_report_then_prune(installed, project, upstream):
    write_agent(project)
    env = agent_env(upstream)
    assert run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "agent.py", **env)[0] == 0
    shutil.copy(ROOT / "recordings" / "embeddings-5e7b201b62a433c2-000.json", project / "recordings")
    status, _, err = run_cli(
        installed, project, "run", "--set", "vcr_report=report.json", "--", sys.executable, "agent.py", **env
    )
    assert status == 0 and "2 replayed, 0 missed" in err, err  # the summary still comes from the report
    report = json.loads((project / "report.json").read_text())
    assert report["hits"] == 2 and report["unused"] == ["embeddings-5e7b201b62a433c2-000.json"]

    status, out, _ = run_cli(installed, project, "prune", "--report", "report.json")
    assert status == 0 and "would delete embeddings-5e7b201b62a433c2-000.json" in out
    assert (project / "recordings" / "embeddings-5e7b201b62a433c2-000.json").exists()
    status, out, _ = run_cli(installed, project, "prune", "--report", "report.json", "--apply")
    assert status == 0 and "1 unused recordings deleted" in out
    assert len(list((project / "recordings").glob("*.json"))) == 2


def test_relative_confdir_and_upstream_ca(installed, project, engine, tmp_path):
    # An HTTPS upstream with a private CA, as in the README's --set ssl_verify_upstream_trusted_ca example.
    host = socket.gethostname()
    tls, ca = make_tls(tmp_path / "tls", host)
    shutil.copy(ca, project / "internal-ca.pem")
    relay = CountingRelay("127.0.0.1", int(engine.url.rsplit(":", 1)[1]), tls=tls)
    try:
        write_agent(project)
        env = {"AGENT_BASE_URL": f"https://{host}:{relay.port}/v1", "OPENAI_API_KEY": API_KEY}
        status, out, err = run_cli(
            installed, project, "run", "--mode", "record", "--confdir", "conf",
            "--set", "ssl_verify_upstream_trusted_ca=internal-ca.pem", "--", sys.executable, "agent.py", **env,
        )  # fmt: skip
    finally:
        relay.close()
    assert status == 0 and "\nANSWER " in out, err
    assert "2 recorded" in err and (project / "conf" / "mitmproxy-ca-cert.pem").is_file()
    assert len(list((project / "recordings").glob("*.json"))) == 2


def test_mitmdump_with_the_installed_addon_script(installed, project):
    line = re.search(r'^(mitmdump -s "\$\(llm-vcr addon\)" --listen-host 127\.0\.0\.1)\s*(#.*)?$', README, re.M)
    assert line, "the README shows the installed-addon form of mitmdump"
    shutil.copytree(ROOT / "recordings", project / "recordings")
    port = free_port()
    proc = subprocess.Popen(
        f"{line.group(1)} --listen-port {port} --set confdir=conf", shell=True, cwd=project, env=installed.env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_port(port, proc)
        curl = re.search(r"^(curl .*-x http://127\.0\.0\.1:8080 .*)$", README, re.M).group(1)
        got = subprocess.run(curl.replace(":8080", f":{port}"), shell=True, capture_output=True, timeout=30)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the shell and mitmdump
        log = proc.communicate(timeout=30)[0].decode()
    events = sse.parse(got.stdout)
    assert len(events) > 2 and events[-1].is_done, (got, log)
    assert "1 replayed, 0 missed" in log


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.1)
    raise AssertionError("the proxy did not listen")


def test_recordings_commands_in_a_project(installed, project, upstream):
    write_agent(project)
    env = agent_env(upstream)
    # Live mode stores nothing; mitmproxy's own --set save_stream_file keeps the traffic for import.
    status, live, err = run_cli(
        installed, project, "run", "--mode", "live", "--set", "save_stream_file=traffic.flows", "--allow-empty",
        "--", sys.executable, "agent.py", **env,
    )  # fmt: skip
    assert status == 0 and live.startswith("STREAM "), err
    assert not (project / "recordings").exists() and (project / "traffic.flows").is_file()

    status, out, _ = run_cli(installed, project, "import", "traffic.flows")
    assert status == 0 and re.search(r"^2 recordings written to recordings", out, re.M), out
    status, out, _ = run_cli(installed, project, "ls")
    assert status == 0 and out.count("/v1/chat/completions") == 2 and "2 files in recordings" in out
    status, out, _ = run_cli(installed, project, "verify")
    assert status == 0 and "2 files checked, 0 with problems" in out
    key = next((project / "recordings").glob("*.json")).name.split("-")[1]
    status, out, _ = run_cli(installed, project, "show", key)
    assert status == 0 and "-- answer" in out and "user:" in out

    # The imported recordings replay, in a new process, with the upstream gone.
    upstream.forwarding = False
    status, replayed, err = run_cli(installed, project, "run", "--", sys.executable, "agent.py", **env)
    assert status == 0 and "2 replayed, 0 missed" in err and replayed == live, err


def test_auto_mode_records_misses_then_replays_them(installed, project, upstream):
    write_agent(project)
    env = agent_env(upstream)
    status, out, err = run_cli(installed, project, "run", "--mode", "auto", "--", sys.executable, "agent.py", **env)
    assert status == 0 and "0 replayed, 0 missed, 2 recorded (auto mode, recordings)" in err, err
    upstream.forwarding = False
    before = upstream.connections
    status, again, err = run_cli(installed, project, "run", "--mode", "auto", "--", sys.executable, "agent.py", **env)
    assert status == 0 and again == out and "2 replayed, 0 missed, 0 recorded" in err, err
    assert upstream.connections == before


def test_offline_replay_refuses_every_other_connection(installed, project, upstream):
    shutil.copytree(ROOT / "recordings", project / "recordings")
    probe = (
        "import urllib.request as u, urllib.error as e\n"
        f"try: print(u.urlopen('{upstream.url}/health', timeout=20).status)\n"
        "except e.HTTPError as x: print(x.code)"
    )
    status, out, err = run_cli(installed, project, "run", "--", sys.executable, "-c", probe)
    assert status == 0 and out == "404\n" and upstream.connections == 1  # not LLM traffic: forwarded (engine: 404)
    offline = ("run", "--set", "vcr_offline=true", "--", sys.executable, "-c", probe)
    status, out, err = run_cli(installed, project, *offline)
    assert status == 0 and out == "502\n", err  # refused by the proxy
    assert upstream.connections == 1


def test_a_miss_raises_at_once_in_the_python_sdk_with_default_retries(installed, project, upstream):
    write_agent(project, MISS_AGENT)
    (project / "recordings").mkdir()
    status, out, err = run_cli(
        installed, project, "run", "--set", "vcr_report=report.json", "--", sys.executable, "agent.py",
        **agent_env(upstream),
    )  # fmt: skip
    assert status == 1 and out.startswith("RAISED NotFoundError") and out.split()[-1] == "no_recording", (out, err)
    assert float(out.split()[2]) < 0.4  # no backoff: SDK retries sleep 0.5 s and more
    report = json.loads((project / "report.json").read_text())
    assert report["llm_requests"] == 1 and report["misses"] == 1  # the SDK did not retry
    assert "no recording matched POST chat/completions" in err and upstream.connections == 0


def test_strict_fails_a_run_whose_command_swallowed_a_miss(installed, project, upstream):
    write_agent(project, MISS_AGENT)
    (project / "recordings").mkdir()
    swallow = ["sh", "-c", f"{sys.executable} agent.py || true"]  # a client that catches the error and goes on
    status, _, err = run_cli(installed, project, "run", "--", *swallow, **agent_env(upstream))
    assert status == 0 and "0 replayed, 1 missed" in err, err
    status, _, err = run_cli(installed, project, "run", "--strict", "--", *swallow, **agent_env(upstream))
    assert status == 3 and "llm-vcr --strict: 1 missed outside any test scope" in err, err


NODE_MISS = """\
import OpenAI from "openai";
const client = new OpenAI({ baseURL: process.env.AGENT_BASE_URL });  // maxRetries: 2 by default
const t0 = Date.now();
try {
  await client.chat.completions.create({ model: "smollm2", messages: [{ role: "user", content: "Never recorded." }] });
  console.log("NO ERROR");
} catch (e) {
  console.log("RAISED", e.constructor.name, (Date.now() - t0) / 1000, e.code);
  process.exit(1);
}
"""


def test_a_miss_raises_at_once_in_the_node_sdk_with_default_retries(installed, project, upstream):
    (project / "agent.mjs").write_text(NODE_MISS)
    (project / "node_modules").symlink_to(ROOT / "tests" / "clients" / "node" / "node_modules")  # npm install
    (project / "recordings").mkdir()
    status, out, err = run_cli(
        installed, project, "run", "--set", "vcr_report=report.json", "--", "node", "agent.mjs", **agent_env(upstream)
    )
    assert status == 1 and out.startswith("RAISED NotFoundError") and out.split()[-1] == "no_recording", (out, err)
    report = json.loads((project / "report.json").read_text())
    assert report["llm_requests"] == 1 and report["misses"] == 1
    assert upstream.connections == 0
