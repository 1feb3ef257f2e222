"""llm-vcr benchmark: every configuration measured side by side in one run, on this machine.

Reports ratios, medians and percentiles (shared, noisy machines: never a single absolute time), prints
markdown tables, writes docs/bench/results.json and docs/bench/bench.png. See the README. Sections:
record.py (the record path), replay.py (throughput, per-request latency), scale.py (start-up, lookup,
memory, soak), large.py (other flows while large bodies are recorded), hookcost.py (µs per request in hooks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from common import HERE, ROOT, Proc, free_port, log
from hookcost import hook_cost
from large import large_bodies
from record import record_path
from replay import latency, prepare, replay_throughput
from report import chart, table
from scale import scale, soak

SECTIONS = ("record", "replay", "latency", "hooks", "scale", "large")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller folders (a smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "bench")
    ap.add_argument("--only", choices=SECTIONS, help="run one section (printed, not written to docs/)")
    args = ap.parse_args()
    runs, seconds, rounds = (8, 2, 1) if args.quick else (30, 4, 6)
    sizes = [1000, 10000] if args.quick else [1000, 10000, 100000]
    work = Path(tempfile.mkdtemp(prefix="llm-vcr-bench-"))
    up_port = free_port()
    up = Proc([sys.executable, str(HERE / "upstream.py"), str(up_port)], up_port)
    wanted = [args.only] if args.only else list(SECTIONS)
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    try:
        prep = prepare(up_port, work) if {"replay", "latency"} & set(wanted) else None
        if "record" in wanted:
            res["record_path"] = record_path(up_port, work, runs)
        if "replay" in wanted:
            res["replay_throughput"] = replay_throughput(
                up_port, work, prep, seconds, max(rounds, 1 if args.quick else 5)
            )
        if "latency" in wanted:
            res["latency"] = latency(
                up_port, work, prep, rounds=2 if args.quick else 5, per_client=20 if args.quick else 60
            )
        if "hooks" in wanted:
            res["hook_cost_us"] = hook_cost(work)
        if "large" in wanted:
            res["large_bodies"] = large_bodies(up_port, work)
        if "scale" in wanted:
            res["scale"] = scale(work, sizes, lookups=300)
            res["soak"] = soak(work, 2000 if args.quick else 10000)
    finally:
        up.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(table(res))
    if args.only:
        print(json.dumps(res, indent=2))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n")
    chart(res, args.out / "bench.png")
    log(f"wrote {args.out / 'results.json'} and {args.out / 'bench.png'}")


if __name__ == "__main__":
    main()
