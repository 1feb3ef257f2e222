"""Failures a user must know about change `llm-vcr run`'s exit status, not only a log line: recordings
that cannot be written (a read-only folder, a full disk: real tmpfs mounts in a user namespace), a
client that goes around the proxy, streams still open at shutdown. A scripted upstream (exact bytes,
instant) stands in for the API: these tests are about what llm-vcr does with what it is given."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from ..e2e.harness import ScriptedUpstream, json_response, sse_response
from .conftest import run_cli

CALLS = 40


def answer(body: bytes) -> list[bytes]:
    req = json.loads(body)
    text = req["messages"][-1]["content"]
    if req.get("stream"):
        data = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
        return sse_response(b"data: " + json.dumps(data).encode() + b"\n\n", b"data: [DONE]\n\n")
    msg = {"role": "assistant", "content": f"echo: {text}"}
    data = {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}
    return json_response(200, json.dumps(data).encode())


@pytest.fixture
def echo():
    up = ScriptedUpstream({"/v1/chat/completions": answer}, delay=0)
    yield up
    up.close()


AGENT = f"""\
import os
from openai import OpenAI

client = OpenAI(base_url=os.environ["AGENT_BASE_URL"], api_key="sk-test")
for i in range({CALLS}):
    r = client.chat.completions.create(model="m", messages=[{{"role": "user", "content": f"call {{i}} " + "x" * 400}}])
print("DONE", r.choices[0].message.content[:12])
"""


def in_namespace(installed, project, mount: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`llm-vcr ARGS` with ./recordings on a tmpfs of its own (a user namespace: no root, no trace left)."""
    if shutil.which("unshare") is None:
        raise RuntimeError("these tests need unshare (util-linux) to mount a small tmpfs")
    (project / "recordings").mkdir(exist_ok=True)
    script = f'mount -t tmpfs -o {mount} tmpfs recordings && exec llm-vcr "$@"'
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *args],
        cwd=project, env=installed.env(**env), capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_a_read_only_folder_loses_nothing_silently(installed, project, echo):
    (project / "agent.py").write_text(AGENT)
    done = in_namespace(installed, project, "ro,size=1m", "run", "--mode", "record", "--", sys.executable, "agent.py",
                        AGENT_BASE_URL=f"{echo.url}/v1")  # fmt: skip
    assert done.stdout.startswith("DONE echo: call"), done.stderr  # the client got every answer
    assert done.returncode == 3, done.stderr
    assert f"{CALLS} NOT WRITTEN (disk errors)" in done.stderr
    assert "could NOT write the recording" in done.stderr and "Read-only file system" in done.stderr
    assert f"{CALLS} LLM calls were NOT recorded" in done.stderr and "Traceback" not in done.stderr


def test_a_full_disk_is_counted_and_leaves_no_temporary_files(installed, project, echo):
    (project / "agent.py").write_text(AGENT)
    (project / "recordings").mkdir()
    # A 24 KB tmpfs at ./recordings, the run, then a listing of it: all inside one mount namespace.
    script = (
        "mount -t tmpfs -o size=24k tmpfs recordings && llm-vcr run --mode record --set vcr_report=report.json "
        '-- "$@"; status=$?; ls -a recordings; exit $status'
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", sys.executable, "agent.py"],
        cwd=project, env=installed.env(AGENT_BASE_URL=f"{echo.url}/v1"), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert "DONE" in done.stdout, done.stderr  # the client got every answer
    report = json.loads((project / "report.json").read_text())
    assert report["recorded"] + report["write_failed"] == CALLS
    assert 0 < report["recorded"] < CALLS and report["write_failed"] == len(report["write_failed_keys"])
    assert done.returncode == 3 and "No space left on device" in done.stderr
    assert f"{report['write_failed']} NOT WRITTEN (disk errors)" in done.stderr
    names = done.stdout.split()
    assert len([n for n in names if n.startswith("chat_completions-")]) == report["recorded"]
    assert not [n for n in names if n.startswith(".tmp-")], names


BYPASS_HTTP_CLIENT = """\
import http.client, json, os
host, port = os.environ["UPSTREAM"].split(":")
c = http.client.HTTPConnection(host, int(port))  # http.client ignores proxy variables
c.request("POST", "/v1/chat/completions", json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
          {"content-type": "application/json"})
print("STATUS", c.getresponse().status)
"""

BYPASS_AIOHTTP = """\
import asyncio, os, sys
import aiohttp

async def main(trust_env):
    async with aiohttp.ClientSession(trust_env=trust_env) as s:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        async with s.post(os.environ["AGENT_BASE_URL"] + "/chat/completions", json=body) as r:
            print("STATUS", r.status)

asyncio.run(main(sys.argv[1] == "trust"))
"""


def test_a_client_that_bypasses_the_proxy_fails_a_record_run(installed, project, echo):
    (project / "direct.py").write_text(BYPASS_HTTP_CLIENT)
    status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "direct.py",
                               UPSTREAM=f"127.0.0.1:{echo.port}")  # fmt: skip
    assert out == "STATUS 200\n"  # it worked, but around the proxy
    assert status == 3 and "the proxy saw no LLM call" in err and "--upstream" in err and "aiohttp" in err
    assert not list(project.glob("recordings/*.json"))
    status, _, err = run_cli(installed, project, "run", "--mode", "record", "--allow-empty", "--", sys.executable,
                             "direct.py", UPSTREAM=f"127.0.0.1:{echo.port}")  # fmt: skip
    assert status == 0, err


def test_aiohttp_goes_around_the_proxy_unless_it_trusts_the_environment(installed, project, echo):
    (project / "agent.py").write_text(BYPASS_AIOHTTP)
    env = {"AGENT_BASE_URL": f"{echo.url}/v1"}
    status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "agent.py",
                               "plain", **env)  # fmt: skip
    assert out == "STATUS 200\n" and status == 3 and "aiohttp without trust_env=True" in err
    status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", sys.executable, "agent.py",
                               "trust", **env)  # fmt: skip
    assert out == "STATUS 200\n" and status == 0 and "1 recorded" in err, err


def test_a_stream_open_at_shutdown_is_kept_partial_and_counted(installed, project):
    # The upstream sends one event and then nothing. A process the command started keeps the stream open
    # after the command ends, so the proxy shuts down with the stream open: written .partial.json, counted.
    event = b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
    up = ScriptedUpstream({"/v1/chat/completions": [*sse_response(event)[:2], 60]}, delay=0)
    (project / "hold.py").write_text(
        "import httpx, os, time\n"
        "with httpx.stream('POST', os.environ['AGENT_BASE_URL'] + '/chat/completions', json={'model': 'm', "
        "'stream': True, 'messages': [{'role': 'user', 'content': 'hi'}]}, timeout=60) as r:\n"
        "    for line in r.iter_lines():\n"
        "        if line.startswith('data:'):\n"
        "            open('got-event', 'w').close()\n"
        "            time.sleep(60)\n"
    )
    (project / "agent.py").write_text(
        "import os, subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, 'hold.py'], start_new_session=True, stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL)\n"
        "open('holder.pid', 'w').write(str(p.pid))\n"
        "while not os.path.exists('got-event'):\n"
        "    time.sleep(0.05)\n"
        "print('STREAM OPEN')\n"
    )
    try:
        status, out, err = run_cli(installed, project, "run", "--mode", "record", "--set", "vcr_report=report.json",
                                   "--", sys.executable, "agent.py", AGENT_BASE_URL=f"{up.url}/v1")  # fmt: skip
    finally:
        holder = (project / "holder.pid").read_text() if (project / "holder.pid").exists() else None
        if holder:
            subprocess.run(["kill", holder])
        up.close()
    assert out == "STREAM OPEN\n", err
    report = json.loads((project / "report.json").read_text())
    partial = list(project.glob("recordings/*.partial.json"))
    assert report["partial"] == 1 and len(partial) == 1 and "1 partial" in err
    reason = json.loads(partial[0].read_text())["response"]["partial"]
    assert "data: [DONE]" in reason and "the proxy shut down while the stream was open" in reason
    assert status == 0  # a cut stream is kept, not lost: the command's status stands


def test_a_bad_project_config_file_is_one_clear_line_before_anything_starts(installed, project):
    (project / "llm-vcr.toml").write_text('ignore = ["messages[role=system"]\n')
    for args in (["run", "--", sys.executable, "-c", "print('ran')"], ["proxy", "--port", "0"]):
        code, out, err = run_cli(installed, project, *args, timeout=60)  # asserts: no traceback
        assert code != 0 and "ran" not in out
        assert err.strip().splitlines() == [
            f"llm-vcr {args[0]}: {project / 'llm-vcr.toml'}: 'messages[role=system' is not a JSON path "
            "(e.g. metadata.request_id, messages[role=system].content)"
        ]
