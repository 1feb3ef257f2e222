"""6. Large bodies: the latency of other flows while a 100 MB streamed answer or a 50 MB request crosses the
proxy: recorded (auto mode), passed through unrecorded (live mode), and through mitmdump without llm-vcr
(mitmproxy's own cost of moving that many bytes). Parsing, keying, secret scanning and writing a recording
happen off the event loop, so what is left is the GIL those threads hold.

The other flows are the same in every configuration: small GETs that no mode touches, sent through a second,
regular-mode listener of the same proxy to a second upstream process, so that neither the upstream busy with
the large body nor a replay's shortcut shapes them; one after another, 5 ms apart.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path

from common import BODIES, HERE, Proc, addon, free_port, log, mitmdump, post, summary, wait_port

BIG_REQUEST_MB = 50
CONFIGS = {"mitmdump": "plain", "passed_through": "live", "recorded": "auto"}


def _big_request() -> bytes:
    text = "lorem ipsum " * (BIG_REQUEST_MB * 1024 * 1024 // 12)
    return json.dumps({"model": "small", "messages": [{"role": "user", "content": text}]}).encode()


def large_bodies(up_port: int, work: Path, rounds: int = 2) -> dict:
    probe_port = free_port()
    probe_up = Proc([sys.executable, str(HERE / "upstream.py"), str(probe_port)], probe_port)
    out: dict = {}
    try:
        for what, body in (("100 MB streamed answer", json.dumps(BODIES["huge"]).encode()),
                           (f"{BIG_REQUEST_MB} MB request", _big_request())):  # fmt: skip
            runs: dict[str, list[dict]] = {mode: [] for mode in CONFIGS.values()}
            for r in range(rounds):
                for mode in list(runs) if r % 2 == 0 else list(runs)[::-1]:
                    folder = work / f"large-{len(out)}-{mode}-{r}"
                    runs[mode].append(_while(up_port, probe_port, work, folder, body, mode))
            out[what] = {
                name: {"idle": _median(runs[mode], "idle"), "during": _median(runs[mode], "during")}
                for name, mode in CONFIGS.items()
            }
            out[what]["p99_ratio"] = (
                out[what]["recorded"]["during"]["p99_ms"] / out[what]["passed_through"]["during"]["p99_ms"]
            )
            log(f"large bodies, {what}: {out[what]}")
    finally:
        probe_up.stop()
    return out


def _median(runs: list[dict], phase: str) -> dict:
    return {k: statistics.median(x[phase][k] for x in runs) for k in ("p50_ms", "p99_ms")}


def _while(up_port: int, probe_port: int, work: Path, folder: Path, body: bytes, mode: str) -> dict:
    """Other flows' latency, idle then while `body` is sent through the proxy."""
    listen = free_port()
    vcr = [] if mode == "plain" else addon(f"vcr_mode={mode}", f"vcr_dir={folder}")
    p = mitmdump(up_port, "--mode", f"regular@{listen}", *vcr, work=work, name=f"large-{mode}")
    wait_port(listen, p.proc)
    conn = http.client.HTTPConnection("127.0.0.1", listen)

    def probes(until) -> list[float]:
        got = []
        while not until():
            t0 = time.perf_counter()
            conn.request("GET", f"http://127.0.0.1:{probe_port}/probe")
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
            got.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.005)
        return got

    start = time.perf_counter()
    idle = probes(lambda: time.perf_counter() - start > 3)
    big = threading.Thread(target=lambda: post(http.client.HTTPConnection("127.0.0.1", p.port, timeout=600), body))
    big.start()
    # Until the big exchange is over and (auto) its recording is on disk: the writer thread's work included.
    busy = probes(lambda: not big.is_alive() and (mode != "auto" or any(folder.glob("*.json"))))
    big.join()
    p.stop()
    return {"idle": summary(idle), "during": summary(busy)}
