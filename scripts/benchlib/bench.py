"""llm-vcr benchmark: every configuration measured side by side in one run, on this machine.

Reports ratios and medians (shared, noisy machines: never a single absolute time), prints a
markdown table, writes docs/bench/results.json and docs/bench/bench.png. See the README.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from llm_vcr.apis import CHAT  # noqa: E402
from llm_vcr.cli.run import terminate  # noqa: E402
from llm_vcr.matching.keys import request_key  # noqa: E402

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
BODIES = {
    "paced": {"model": "paced", "messages": [{"role": "user", "content": "count"}], "stream": True},
    "json": {"model": "small", "messages": [{"role": "user", "content": "hello"}]},
    "stream200": {"model": "stream200", "messages": [{"role": "user", "content": "long"}], "stream": True},
    "big": {"model": "big", "messages": [{"role": "user", "content": "a 10 MB answer"}], "stream": True},
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
    first, data = None, b""
    LAST_DONE.clear()
    while chunk := resp.read1(65536):
        first = first or time.perf_counter() - t0
        data += chunk
        if not LAST_DONE and DONE in data[-len(chunk) - len(DONE) :]:
            LAST_DONE.append(time.perf_counter() - t0)
    assert resp.status == 200, (resp.status, data[:300])
    return first or 0.0, time.perf_counter() - t0, data


# ---- 1. record path ---------------------------------------------------------------------


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


# ---- 2. replay throughput ---------------------------------------------------------------


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


def replay_throughput(up_port: int, work: Path, seconds: int, rounds: int) -> dict:
    log("replay throughput: preparing recordings, a server-replay flow file and constant bodies")
    recs, flows = work / "replay-recs", work / "flows.mitm"
    rec = mitmdump(up_port, *addon("vcr_mode=record", f"vcr_dir={recs}"), work=work, name="prep-record")
    dump = mitmdump(up_port, "-w", str(flows), work=work, name="prep-dump")  # buffered: bodies kept
    answers = {}
    for kind in ("json", "stream200"):
        body = json.dumps(BODIES[kind]).encode()
        for p in (rec, dump):
            conn = http.client.HTTPConnection("127.0.0.1", p.port)
            post(conn, body)
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", up_port)
        answers[kind] = post(conn, body)[2]
    rec.stop()
    dump.stop()
    results: dict = {}
    for kind in ("json", "stream200"):
        body = json.dumps(BODIES[kind]).encode()
        (work / f"{kind}.body").write_bytes(answers[kind])
        ctype = "text/event-stream" if kind == "stream200" else "application/json"
        procs = {
            "constant addon (ceiling)": mitmdump(up_port, "-s", str(HERE / "constant.py"), work=work, name="const",
                                                 env={"BENCH_BODY": str(work / f"{kind}.body"), "BENCH_CTYPE": ctype}),
            "mitmproxy --server-replay": mitmdump(up_port, "--server-replay", str(flows), "--set",
                                                  "server_replay_reuse=true", "--set", "keepserving=true", "--set",
                                                  "server_replay_extra=404", work=work, name="server-replay"),
            "llm-vcr replay": mitmdump(up_port, *addon("vcr_mode=replay", f"vcr_dir={recs}"), work=work,
                                       name="replay"),
        }  # fmt: skip
        rates: dict[str, list[float]] = {n: [] for n in procs}
        for r in range(rounds):
            for name in random.sample(list(procs), len(procs)):
                log(f"  {kind}: {name}, round {r + 1}/{rounds}")
                rates[name].append(wrk(procs[name].port, body, seconds, conns=8))
        for p in procs.values():
            p.stop()
        med = {n: statistics.median(v) for n, v in rates.items()}
        ceiling = med["constant addon (ceiling)"]
        results[kind] = {n: {"req_per_s": v, "of_ceiling": v / ceiling} for n, v in med.items()}
        results[kind]["llm-vcr replay"]["vs_server_replay"] = med["llm-vcr replay"] / med["mitmproxy --server-replay"]
    return results


# ---- 3. scale and 4. soak ---------------------------------------------------------------


def synthetic_folder(folder: Path, n: int) -> list[bytes]:
    folder.mkdir(parents=True)
    bodies = []
    for i in range(n):
        body = {"model": "small", "messages": [{"role": "user", "content": f"question {i}"}]}
        key = request_key("POST", CHAT, body)
        doc = {
            "request": {
                "method": "POST",
                "url": "http://127.0.0.1/v1/chat/completions",
                "headers": {},
                "body": body,
                "endpoint": "/v1/chat/completions",
                "model": "small",
            },
            "response": {
                "body": {
                    "__type__": "openai.types.chat.chat_completion.ChatCompletion",
                    "__data__": {
                        "id": f"c{i}",
                        "object": "chat.completion",
                        "model": "small",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": f"answer {i}"},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"total_tokens": 9},
                    },
                },
                "is_streaming": False,
            },
        }
        (folder / f"chat_completions-{key}-000.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        bodies.append(orjson.dumps(body))
    return bodies


def scale(work: Path, sizes: list[int], lookups: int) -> dict:
    out = {}
    for n in sizes:
        folder = work / f"scale-{n}"
        log(f"scale: writing {n} synthetic recordings")
        bodies = synthetic_folder(folder, n)
        cache = work / f"index-cache-{n}"
        row = {}
        for phase in ("cold", "warm"):  # cold: no index cache yet; warm: a restart with it
            t0 = time.perf_counter()
            p = mitmdump(
                9,
                *addon(f"vcr_dir={folder}"),
                work=work,
                name=f"scale-{n}-{phase}",
                env={"LLM_VCR_INDEX_CACHE": str(cache)},
            )
            conn = http.client.HTTPConnection("127.0.0.1", p.port)
            post(conn, bodies[0])
            row[f"ready_{phase}_s"] = time.perf_counter() - t0
            if phase == "warm":
                times = []
                for body in random.sample(bodies, min(lookups, n)):
                    times.append(post(conn, body)[1] * 1000)
                row["lookup_ms_median"] = statistics.median(times)
                row["rss_mb"] = p.rss_mb()
            p.stop()
        out[str(n)] = row
        log(f"  {n}: {row}")
        shutil.rmtree(folder)
    return out


def soak(work: Path, requests: int) -> dict:
    folder = work / "soak"
    bodies = synthetic_folder(folder, 1000)
    p = mitmdump(9, *addon(f"vcr_dir={folder}"), work=work, name="soak")
    conn = http.client.HTTPConnection("127.0.0.1", p.port)
    samples = {}
    for i in range(requests + 1):
        if i % (requests // 5) == 0:
            samples[str(i)] = p.rss_mb()
        if i < requests:
            post(conn, bodies[i % len(bodies)])
    p.stop()
    log(f"soak: RSS by requests served {samples}")
    return {"rss_mb_by_requests": samples}


# ---- 5. the event loop while a large recording is written ---------------------------------


def loop_latency(up_port: int, work: Path) -> dict:
    """Latency of other (replayed) flows while a 10 MB stream passes: recorded (auto) vs not (live)."""
    folder = work / "loop"
    probe = synthetic_folder(folder, 1)[0]
    out = {}
    for mode in ("live", "auto"):
        out[mode] = _loop_latency(up_port, work, folder, probe, mode)
    return out


def _loop_latency(up_port: int, work: Path, folder: Path, probe: bytes, mode: str) -> dict:
    # In live mode the probe is a pass-through JSON call; in auto, a replay: both are small answers.
    p = mitmdump(up_port, *addon(f"vcr_mode={mode}", f"vcr_dir={folder}"), work=work, name=f"loop-{mode}")
    conn = http.client.HTTPConnection("127.0.0.1", p.port)

    def probes(seconds: float) -> list[float]:
        out, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end:
            out.append(post(conn, probe)[1] * 1000)
            time.sleep(0.005)
        return out

    idle = probes(1.5)
    big = threading.Thread(target=lambda: post(http.client.HTTPConnection("127.0.0.1", p.port),
                                               json.dumps(BODIES["big"]).encode()))  # fmt: skip
    big.start()
    busy = probes(3.0)  # covers the 10 MB stream and its build + write on the writer thread
    big.join()
    p.stop()
    return {"idle_p50_ms": statistics.median(idle), "idle_max_ms": max(idle),
            "during_write_p50_ms": statistics.median(busy), "during_write_max_ms": max(busy)}  # fmt: skip


# ---- report ----------------------------------------------------------------------------


def table(res: dict) -> str:
    rp = res["record_path"]
    lines = ["| record path (paced 20-chunk stream) | TTFB median | data: [DONE] median | stream end median |",
             "|---|---|---|---|"]  # fmt: skip
    for name, r in rp.items():
        lines.append(f"| {name} | {r['ttfb_ms']:.1f} ms | {r['done_ms']:.1f} ms | {r['total_ms']:.1f} ms |")
    r = rp["llm-vcr record"]
    lines.append(f"| **llm-vcr record vs streaming mitmdump** | **{r['ttfb_added_ms']:+.1f} ms** | "
                 f"**{(r['done_ratio'] - 1) * 100:+.1f} %** | **{(r['total_ratio'] - 1) * 100:+.1f} %** |")  # fmt: skip
    lines.append(f"| **llm-vcr record vs the one-line tap** | | | **{(r['total_vs_tap_ratio'] - 1) * 100:+.1f} %** |")
    lines += ["", "| replay throughput (wrk, 8 connections) | non-streaming | 200-chunk stream |", "|---|---|---|"]
    t = res["replay_throughput"]
    for name in t["json"]:
        cells = [f"{t[k][name]['req_per_s']:.0f} req/s ({t[k][name]['of_ceiling'] * 100:.0f} %)" for k in t]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append(
        "| **llm-vcr replay / server-replay** | "
        + " | ".join(f"**{t[k]['llm-vcr replay']['vs_server_replay'] * 100:.0f} %**" for k in t)
        + " |"
    )
    lines += [
        "",
        "| recordings in vcr_dir | ready, cold (no index cache) | ready, warm | lookup median | RSS |",
        "|---|---|---|---|---|",
    ]
    for n, s in res["scale"].items():
        lines.append(f"| {int(n):,} | {s['ready_cold_s']:.2f} s | {s['ready_warm_s']:.2f} s | "
                     f"{s['lookup_ms_median']:.2f} ms | {s['rss_mb']:.0f} MB |")  # fmt: skip
    soak_rss = res["soak"]["rss_mb_by_requests"]
    lines += ["", "soak, RSS by replayed requests: " + ", ".join(f"{k}: {v:.0f} MB" for k, v in soak_rss.items())]
    for mode, ll in res["loop_latency"].items():
        what = "recorded (auto mode)" if mode == "auto" else "passed through unrecorded (live mode)"
        lines.append(f"- other flows while a 10 MB stream is {what}: p50 {ll['during_write_p50_ms']:.1f} ms, max "
                     f"{ll['during_write_max_ms']:.1f} ms (idle: p50 {ll['idle_p50_ms']:.1f} ms, max "
                     f"{ll['idle_max_ms']:.1f} ms)")  # fmt: skip
    return "\n".join(lines)


def chart(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    t = res["replay_throughput"]
    names = list(t["json"])
    for i, kind in enumerate(t):
        a.bar([x + i * 0.4 for x in range(len(names))], [t[kind][n]["req_per_s"] for n in names], 0.4, label=kind)
    a.set_xticks([x + 0.2 for x in range(len(names))], [n.replace(" (ceiling)", "\n(ceiling)") for n in names],
                 fontsize=8)  # fmt: skip
    a.set_ylabel("requests/s")
    a.set_title("replay throughput")
    a.legend()
    rp = res["record_path"]
    b.bar(list(rp), [r["ttfb_ms"] for r in rp.values()], color="tab:green")
    b.set_ylabel("ms")
    b.set_title("record path: time to first chunk")
    b.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller folders (a smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "bench")
    ap.add_argument("--only", choices=["record", "replay", "scale"],
                    help="run one section (printed, not written to docs/)")  # fmt: skip
    args = ap.parse_args()
    runs, seconds, rounds = (8, 2, 1) if args.quick else (30, 4, 6)
    sizes = [1000, 10000] if args.quick else [1000, 10000, 100000]
    work = Path(tempfile.mkdtemp(prefix="llm-vcr-bench-"))
    up_port = free_port()
    up = Proc([sys.executable, str(HERE / "upstream.py"), str(up_port)], up_port)
    if args.only:
        try:
            section = {"record": lambda: record_path(up_port, work, runs),
                       "replay": lambda: replay_throughput(up_port, work, seconds, rounds),
                       "scale": lambda: scale(work, sizes, lookups=300)}[args.only]()  # fmt: skip
            print(json.dumps(section, indent=2))
        finally:
            up.stop()
            shutil.rmtree(work, ignore_errors=True)
        return
    try:
        res = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "record_path": record_path(up_port, work, runs),
            "replay_throughput": replay_throughput(up_port, work, seconds, rounds),
            "loop_latency": loop_latency(up_port, work),
            "scale": scale(work, sizes, lookups=300),
            "soak": soak(work, 2000 if args.quick else 10000),
        }
    finally:
        up.stop()
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n")
    chart(res, args.out / "bench.png")
    print(table(res))
    log(f"wrote {args.out / 'results.json'} and {args.out / 'bench.png'}")


if __name__ == "__main__":
    main()
