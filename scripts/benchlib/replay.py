"""2. Replay throughput (wrk) and 3. per-request latency (p50 / p99 at 1 and 8 concurrent clients): llm-vcr
against a constant-response addon (the most any addon can do inside mitmproxy), mitmproxy's own
`--server-replay`, a direct request to the local server, and, for recording, streaming mitmdump."""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import BODIES, HERE, Proc, addon, log, mitmdump, post, summary, wrk

KINDS = ("json", "stream200")


@dataclass
class Prepared:
    recs: Path  # llm-vcr recordings of each kind
    flows: Path  # the same exchanges as a mitmproxy flow file (for --server-replay)
    answers: dict[str, Path]  # the upstream's bytes of each kind (for the constant addon)


def prepare(up_port: int, work: Path) -> Prepared:
    log("replay: preparing recordings, a server-replay flow file and constant bodies")
    recs, flows = work / "replay-recs", work / "flows.mitm"
    rec = mitmdump(up_port, *addon("vcr_mode=record", f"vcr_dir={recs}"), work=work, name="prep-record")
    dump = mitmdump(up_port, "-w", str(flows), work=work, name="prep-dump")  # buffered: bodies kept
    answers = {}
    for kind in KINDS:
        body = json.dumps(BODIES[kind]).encode()
        for p in (rec, dump):
            conn = http.client.HTTPConnection("127.0.0.1", p.port)
            post(conn, body)
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", up_port)
        answers[kind] = work / f"{kind}.body"
        answers[kind].write_bytes(post(conn, body)[2])
    rec.stop()
    dump.stop()
    return Prepared(recs, flows, answers)


def _constant(up_port: int, work: Path, prep: Prepared, kind: str) -> Proc:
    ctype = "text/event-stream" if kind == "stream200" else "application/json"
    return mitmdump(up_port, "-s", str(HERE / "constant.py"), work=work, name=f"const-{kind}",
                    env={"BENCH_BODY": str(prep.answers[kind]), "BENCH_CTYPE": ctype})  # fmt: skip


def replay_throughput(up_port: int, work: Path, prep: Prepared, seconds: int, rounds: int) -> dict:
    results: dict = {}
    for kind in KINDS:
        body = json.dumps(BODIES[kind]).encode()
        procs = {
            "constant addon (ceiling)": _constant(up_port, work, prep, kind),
            "mitmproxy --server-replay": mitmdump(up_port, "--server-replay", str(prep.flows), "--set",
                                                  "server_replay_reuse=true", "--set", "keepserving=true", "--set",
                                                  "server_replay_extra=404", work=work, name="server-replay"),
            "llm-vcr replay": mitmdump(up_port, *addon("vcr_mode=replay", f"vcr_dir={prep.recs}"), work=work,
                                       name="replay"),
        }  # fmt: skip
        rates: dict[str, list[float]] = {n: [] for n in procs}
        for r in range(rounds):
            for name in random.sample(list(procs), len(procs)):
                log(f"  throughput {kind}: {name}, round {r + 1}/{rounds}")
                rates[name].append(wrk(procs[name].port, body, seconds, conns=8))
        for p in procs.values():
            p.stop()
        med = {n: statistics.median(v) for n, v in rates.items()}
        ceiling = med["constant addon (ceiling)"]
        results[kind] = {n: {"req_per_s": v, "of_ceiling": v / ceiling, "rounds": rates[n]} for n, v in med.items()}
        results[kind]["llm-vcr replay"]["vs_server_replay"] = med["llm-vcr replay"] / med["mitmproxy --server-replay"]
    return results


def _clients(port: int, body: bytes, clients: int, per_client: int) -> list[float]:
    """Latency (ms, whole response) of each request of `clients` keep-alive clients sending at once."""
    out: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = [post(conn, body)[1] * 1000 for _ in range(per_client)]
        conn.close()
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def latency(up_port: int, work: Path, prep: Prepared, rounds: int, per_client: int) -> dict:
    """p50 / p99 per request: replay vs the constant addon vs the server directly; record vs mitmdump."""
    results: dict = {}
    for kind in KINDS:
        body = json.dumps(BODIES[kind]).encode()
        procs: dict[str, Proc | None] = {
            "direct (local server)": None,
            "constant addon (ceiling)": _constant(up_port, work, prep, kind),
            "llm-vcr replay": mitmdump(up_port, *addon("vcr_mode=replay", f"vcr_dir={prep.recs}"), work=work,
                                       name=f"lat-replay-{kind}"),
            "mitmdump streaming (pass-through)": mitmdump(up_port, "--set", "stream_large_bodies=1", work=work,
                                                          name=f"lat-plain-{kind}"),
            "llm-vcr record": mitmdump(up_port, *addon("vcr_mode=record", f"vcr_dir={work / f'lat-rec-{kind}'}"),
                                       work=work, name=f"lat-record-{kind}"),
        }  # fmt: skip
        samples: dict[tuple[str, int], list[float]] = {}
        for r in range(rounds):
            for clients in (1, 8):
                for name in random.sample(list(procs), len(procs)):
                    p = procs[name]
                    got = _clients(p.port if p else up_port, body, clients, per_client)
                    samples.setdefault((name, clients), []).extend(got)
            log(f"  latency {kind}: round {r + 1}/{rounds}")
            time.sleep(0.2)
        for p in procs.values():
            if p:
                p.stop()
        # In the order of `procs`, whatever order the rounds ran in.
        results[kind] = {f"{name} @{c}": summary(samples[name, c]) for name in procs for c in (1, 8)}
    return results
