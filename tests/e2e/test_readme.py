"""The README's quick start works as written: its proxy command and its curl line, verbatim."""

import os
import re
import signal
import socket
import subprocess
import time

from llm_vcr.framings import sse

from .harness import ROOT, clean_env, free_port

README = (ROOT / "README.md").read_text()


def test_quick_start_replays_a_stream_from_the_bundled_recordings(tmp_path):
    proxy_cmd = re.search(r"^(scripts/llm-vcr proxy)\s*(#.*)?$", README, re.M).group(1)
    curl_cmd = re.search(r"^(curl .*-x http://127\.0\.0\.1:8080 .*)$", README, re.M).group(1)
    port = free_port()  # 8080 may be taken on a shared machine
    proc = subprocess.Popen(
        f"{proxy_cmd} --port {port} --confdir {tmp_path}",
        shell=True,
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.1)
        out = subprocess.run(
            curl_cmd.replace(":8080", f":{port}"), shell=True, capture_output=True, env=clean_env(), timeout=30
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the whole session: shell, wrapper and mitmdump
        log = proc.communicate(timeout=20)[0].decode()
    events = sse.parse(out.stdout)
    assert len(events) > 2 and events[-1].is_done, (out.stdout, out.stderr, log)
    assert "1 replayed, 0 missed" in log
