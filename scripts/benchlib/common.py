"""What every benchmark section shares: processes, mitmdump configurations, timed requests, percentiles."""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from llm_vcr.cli.run import terminate  # noqa: E402

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
BODIES = {
    "paced": {"model": "paced", "messages": [{"role": "user", "content": "count"}], "stream": True},
    "json": {"model": "small", "messages": [{"role": "user", "content": "hello"}]},
    "stream200": {"model": "stream200", "messages": [{"role": "user", "content": "long"}], "stream": True},
    "big": {"model": "big", "messages": [{"role": "user", "content": "a 10 MB answer"}], "stream": True},
    "huge": {"model": "huge", "messages": [{"role": "user", "content": "a 100 MB answer"}], "stream": True},
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}") from None
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


class Proc:
    def __init__(self, cmd: list[str], port: int, env: dict | None = None, log_path: Path | None = None) -> None:
        out = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.port = port
        wait_port(port, self.proc)

    def rss_mb(self) -> float:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024

    def stop(self) -> None:
        terminate(self.proc)


def mitmdump(upstream_port: int, *args: str, work: Path, name: str, env: dict | None = None) -> Proc:
    port = free_port()
    cmd = [
        str(BIN / "mitmdump"),
        "-q",
        "--mode",
        f"reverse:http://127.0.0.1:{upstream_port}@127.0.0.1:{port}",
        "--set",
        f"confdir={work / 'conf'}",
        "--set",
        "connection_strategy=lazy",
        *args,
    ]
    return Proc(cmd, port, env=env, log_path=work / f"{name}.log")


def addon(*sets: str) -> list[str]:
    return ["-s", str(ROOT / "addon" / "llm_vcr.py"), *(a for s in sets for a in ("--set", s))]


DONE = b"data: [DONE]"
LAST_DONE: list[float] = []  # when [DONE] arrived in the last post(): where SDK clients stop reading


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[float, float, bytes]:
    """(time to first body byte, total time, body) of one request on a kept-alive connection."""
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=body, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    first, parts, tail = None, [], b""
    LAST_DONE.clear()
    while chunk := resp.read1(65536):
        first = first or time.perf_counter() - t0
        parts.append(chunk)  # joined once at the end: `+=` on bytes is quadratic on a 100 MB answer
        tail = tail[-len(DONE) :] + chunk
        if not LAST_DONE and DONE in tail:
            LAST_DONE.append(time.perf_counter() - t0)
    data = b"".join(parts)
    assert resp.status == 200, (resp.status, data[:300])
    return first or 0.0, time.perf_counter() - t0, data


def wrk(port: int, body: bytes, seconds: int, conns: int) -> float:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = [==[{body.decode()}]==]\n")  # fmt: skip
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/v1/chat/completions",
        ],
        capture_output=True,
        text=True,
    )
    script.unlink()
    m = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if not m or errors:
        raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
    return float(m.group(1))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank: p99 of 2000 samples is the 1980th smallest."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p99_ms": percentile(values, 99), "n": len(values)}


def drop_page_cache() -> bool:
    """Evict file pages (root only): a cold start that reads files from the disk, not from memory."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False
