"""MCP tool servers over streamable HTTP, through the official `mcp` SDK against a real `mcp` server:
the stateless transport with JSON answers (mcp 2.x) and the session-based one with `initialize`,
`Mcp-Session-Id` and SSE answers (mcp 1.x, in a venv of its own). Recorded in one order, replayed
with the server stopped, in a new process, in the other order; a call never recorded is a miss, never
forwarded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..e2e.harness import free_port, wait_for
from .conftest import run_cli

APPS = Path(__file__).parent / "apps"


@pytest.fixture(scope="session")
def mcp1_python(tmp_path_factory) -> str:
    """A venv with the 1.x SDK: its client and server speak the session-based transport."""
    venv = tmp_path_factory.mktemp("mcp1") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "mcp>=1.9,<2"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(venv / "bin" / "python")


def _server(python: str, script: str, project: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = project.parent / f"{script}.log"
    proc = subprocess.Popen([python, str(APPS / script), str(port), "sse", "session"], stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)  # fmt: skip

    def up() -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_for(up, 30, f"the MCP server {script}", proc, log)
    return proc, f"http://127.0.0.1:{port}/mcp"


@pytest.mark.parametrize("transport", ["stateless (mcp 2)", "session and SSE (mcp 1)"])
def test_mcp_records_then_replays_in_another_order(transport, installed, project, request):
    python = sys.executable if transport.startswith("stateless") else request.getfixturevalue("mcp1_python")
    server, client = ("mcp2_server.py", "mcp2_client.py") if python == sys.executable else ("mcp1_server.py",
                                                                                          "mcp1_client.py")  # fmt: skip
    shutil.copy(APPS / client, project / client)
    proc, url = _server(python, server, project)
    try:
        status, recorded, err = run_cli(installed, project, "run", "--mode", "record", "--", python, client,
                                        "forward", MCP_URL=url)  # fmt: skip
        assert status == 0 and "CALL sunny in Paris" in recorded, err
    finally:
        proc.kill()
        proc.wait()
    files = list((project / "recordings").glob("mcp-*.json"))
    assert files and not list((project / "recordings").glob("*.partial.json"))
    methods = {json.loads(f.read_text())["request"]["body"]["method"] for f in files}
    assert {"tools/list", "tools/call", "resources/read", "prompts/get"} <= methods

    # The server is gone: every call must be answered from the recordings, in another order.
    status, replayed, err = run_cli(installed, project, "run", "--set", "vcr_report=r.json", "--", python, client,
                                    "reverse", MCP_URL=url)  # fmt: skip
    assert status == 0 and replayed == recorded, err
    report = json.loads((project / "r.json").read_text())
    assert report["misses"] == 0 and report["hits"] >= 4

    # A call that was never recorded: a miss, answered by the proxy (the server is down: nothing to reach).
    status, _, err = run_cli(installed, project, "run", "--set", "vcr_report=m.json", "--", python, client,
                             "forward", MCP_URL=url, CITY="Oslo", command_fails=True)  # fmt: skip
    report = json.loads((project / "m.json").read_text())
    assert status != 0 and report["misses"] == 1 and "no recording matched POST mcp" in err
