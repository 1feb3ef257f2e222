"""1. The record path: time to first chunk and to the end of a paced stream, direct, through streaming
mitmdump, a one-line tap addon and llm-vcr recording it."""

from __future__ import annotations

import http.client
import json
import random
import statistics
from pathlib import Path

from common import BODIES, HERE, LAST_DONE, addon, log, mitmdump, post


def record_path(up_port: int, work: Path, runs: int) -> dict:
    log(f"record path: paced 20-chunk stream, {runs} runs per configuration, interleaved")
    configs = {
        "direct": None,
        "mitmdump streaming": mitmdump(up_port, "--set", "stream_large_bodies=1", work=work, name="plain"),
        "one-line tap addon": mitmdump(up_port, "-s", str(HERE / "tap.py"), work=work, name="tap"),
        "llm-vcr record": mitmdump(up_port, *addon("vcr_mode=record", f"vcr_dir={work / 'rec-path'}"), work=work,
                                   name="record"),
    }  # fmt: skip
    body = json.dumps(BODIES["paced"]).encode()
    conns = {n: http.client.HTTPConnection("127.0.0.1", p.port if p else up_port) for n, p in configs.items()}
    ttfb: dict[str, list[float]] = {n: [] for n in configs}
    total: dict[str, list[float]] = {n: [] for n in configs}
    done: dict[str, list[float]] = {n: [] for n in configs}
    for _ in range(runs):
        for name in random.sample(list(configs), len(configs)):  # interleaved, shuffled: noise hits all alike
            first, whole, _ = post(conns[name], body)
            ttfb[name].append(first * 1000)
            total[name].append(whole * 1000)
            done[name].append(LAST_DONE[0] * 1000)
    for p in configs.values():
        if p:
            p.stop()
    out = {n: {"ttfb_ms": statistics.median(ttfb[n]), "total_ms": statistics.median(total[n]),
               "done_ms": statistics.median(done[n])} for n in configs}  # fmt: skip
    base = out["mitmdump streaming"]
    out["llm-vcr record"]["ttfb_added_ms"] = out["llm-vcr record"]["ttfb_ms"] - base["ttfb_ms"]
    out["llm-vcr record"]["total_ratio"] = out["llm-vcr record"]["total_ms"] / base["total_ms"]
    out["llm-vcr record"]["done_ratio"] = out["llm-vcr record"]["done_ms"] / base["done_ms"]
    tap = out["one-line tap addon"]
    out["llm-vcr record"]["total_vs_tap_ratio"] = out["llm-vcr record"]["total_ms"] / tap["total_ms"]
    return out
