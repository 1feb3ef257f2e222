"""6. Large bodies: the latency of other flows (small replays, one after another) while a 100 MB streamed
answer or a 50 MB request is recorded, against the same proxy idle; parsing, keying, secret scanning and
writing a recording happen off the event loop, so what is left is the GIL those threads hold."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from common import BODIES, addon, log, mitmdump, post, summary
from scale import synthetic_folder

BIG_REQUEST_MB = 50


def _big_request() -> bytes:
    text = "lorem ipsum " * (BIG_REQUEST_MB * 1024 * 1024 // 12)
    return json.dumps({"model": "small", "messages": [{"role": "user", "content": text}]}).encode()


def large_bodies(up_port: int, work: Path) -> dict:
    out = {}
    for what, body in (("100 MB streamed answer", json.dumps(BODIES["huge"]).encode()),
                       (f"{BIG_REQUEST_MB} MB request", _big_request())):  # fmt: skip
        folder = work / f"large-{len(out)}"
        probe = synthetic_folder(folder, 1)[0]
        out[what] = _while(up_port, work, folder, probe, body, what)
        log(f"large bodies, {what}: {out[what]}")
    return out


def _while(up_port: int, work: Path, folder: Path, probe: bytes, body: bytes, what: str) -> dict:
    p = mitmdump(up_port, *addon("vcr_mode=auto", f"vcr_dir={folder}"), work=work, name=f"large-{len(body)}")
    conn = http.client.HTTPConnection("127.0.0.1", p.port)
    before = set(folder.glob("*.json"))

    def probes(until) -> list[float]:
        got = []
        while not until():
            got.append(post(conn, probe)[1] * 1000)
            time.sleep(0.005)
        return got

    start = time.perf_counter()
    idle = probes(lambda: time.perf_counter() - start > 3)
    big = threading.Thread(target=lambda: post(http.client.HTTPConnection("127.0.0.1", p.port, timeout=600), body))
    big.start()
    # Until the big exchange is over and its recording is on disk (the writer thread's work included).
    busy = probes(lambda: not big.is_alive() and len(set(folder.glob("*.json")) - before) >= 1)
    big.join()
    p.stop()
    idle_s, busy_s = summary(idle), summary(busy)
    return {"idle": idle_s, "during": busy_s, "p99_ratio": busy_s["p99_ms"] / idle_s["p99_ms"],
            "p50_ratio": busy_s["p50_ms"] / idle_s["p50_ms"]}  # fmt: skip
