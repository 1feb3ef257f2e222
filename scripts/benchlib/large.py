"""6. Large bodies: the latency of other flows (small replays, one after another) while a 100 MB streamed
answer or a 50 MB request crosses the proxy: recorded (auto mode), passed through unrecorded (live mode), and
through mitmdump without llm-vcr (mitmproxy's own cost of moving that many bytes); parsing,
keying, secret scanning and writing a recording happen off the event loop, so what is left is the GIL
those threads hold."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from pathlib import Path

from common import BODIES, addon, log, mitmdump, post, summary
from scale import synthetic_folder

BIG_REQUEST_MB = 50


def _big_request() -> bytes:
    text = "lorem ipsum " * (BIG_REQUEST_MB * 1024 * 1024 // 12)
    return json.dumps({"model": "small", "messages": [{"role": "user", "content": text}]}).encode()


def large_bodies(up_port: int, work: Path, rounds: int = 2) -> dict:
    out = {}
    for what, body in (("100 MB streamed answer", json.dumps(BODIES["huge"]).encode()),
                       (f"{BIG_REQUEST_MB} MB request", _big_request())):  # fmt: skip
        runs: dict[str, list[dict]] = {"plain": [], "live": [], "auto": []}
        for r in range(rounds):
            for mode in list(runs) if r % 2 == 0 else list(runs)[::-1]:
                folder = work / f"large-{len(out)}-{mode}-{r}"
                probe = synthetic_folder(folder, 1)[0]
                runs[mode].append(_while(up_port, work, folder, probe, body, mode))

        # Each mode against its own idle baseline: in live mode the small probes pass through too.
        out[what] = {
            "mitmdump": {"idle": _median(runs["plain"], "idle"), "during": _median(runs["plain"], "during")},
            "passed_through": {"idle": _median(runs["live"], "idle"), "during": _median(runs["live"], "during")},
            "recorded": {"idle": _median(runs["auto"], "idle"), "during": _median(runs["auto"], "during")},
        }
        out[what]["p99_ratio"] = (
            out[what]["recorded"]["during"]["p99_ms"] / out[what]["passed_through"]["during"]["p99_ms"]
        )
        log(f"large bodies, {what}: {out[what]}")
    return out


def _median(runs: list[dict], phase: str) -> dict:
    return {k: statistics.median(x[phase][k] for x in runs) for k in ("p50_ms", "p99_ms")}


def _while(up_port: int, work: Path, folder: Path, probe: bytes, body: bytes, mode: str) -> dict:
    """Other flows' latency, idle then while `body` is sent; except in auto mode the probe passes through too."""
    args = [] if mode == "plain" else addon(f"vcr_mode={mode}", f"vcr_dir={folder}")
    p = mitmdump(up_port, *args, work=work, name=f"large-{mode}")
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
    # Until the big exchange is over and (auto) its recording is on disk: the writer thread's work included.
    busy = probes(lambda: not big.is_alive() and (mode != "auto" or len(set(folder.glob("*.json")) - before) >= 1))
    big.join()
    p.stop()
    return {"idle": summary(idle), "during": summary(busy)}
