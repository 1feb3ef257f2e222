"""The benchmark's markdown tables (printed, and pasted into the README) and its chart."""

from __future__ import annotations

from pathlib import Path


def table(res: dict) -> str:
    lines: list[str] = []
    if "record_path" in res:
        rp = res["record_path"]
        lines += ["| record path (paced 20-chunk stream) | TTFB median | data: [DONE] median | stream end median |",
                  "|---|---|---|---|"]  # fmt: skip
        for name, r in rp.items():
            lines.append(f"| {name} | {r['ttfb_ms']:.1f} ms | {r['done_ms']:.1f} ms | {r['total_ms']:.1f} ms |")
        r = rp["llm-vcr record"]
        done, total = (r["done_ratio"] - 1) * 100, (r["total_ratio"] - 1) * 100
        lines.append(f"| **llm-vcr record vs streaming mitmdump** | **{r['ttfb_added_ms']:+.1f} ms** | "
                     f"**{done:+.1f} %** | **{total:+.1f} %** |")  # fmt: skip
        lines += [""]
    if "replay_throughput" in res:
        t = res["replay_throughput"]
        rounds = len(next(iter(t["json"].values()))["rounds"])
        lines += [f"| replay throughput (wrk, 8 connections, median of {rounds} interleaved rounds) | non-streaming | "
                  "200-chunk stream |", "|---|---|---|"]  # fmt: skip
        for name in t["json"]:
            cells = [f"{t[k][name]['req_per_s']:.0f} req/s ({t[k][name]['of_ceiling'] * 100:.1f} %)" for k in t]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines.append(
            "| **llm-vcr replay / server-replay** | "
            + " | ".join(f"**{t[k]['llm-vcr replay']['vs_server_replay'] * 100:.0f} %**" for k in t)
            + " |"
        )
        lines += [""]
    if "latency" in res:
        lat = res["latency"]
        for kind, rows in lat.items():
            title = "non-streaming" if kind == "json" else "200-chunk stream"
            lines += [f"| per-request latency, {title} | p50 @1 | p99 @1 | p50 @8 | p99 @8 |", "|---|---|---|---|---|"]
            for name in dict.fromkeys(k.rsplit(" @", 1)[0] for k in rows):
                one, eight = rows[f"{name} @1"], rows[f"{name} @8"]
                lines.append(f"| {name} | {one['p50_ms']:.2f} ms | {one['p99_ms']:.2f} ms | {eight['p50_ms']:.2f} ms | "
                             f"{eight['p99_ms']:.2f} ms |")  # fmt: skip
            lines += [""]
    if "hook_cost_us" in res:
        h = res["hook_cost_us"]
        lines += ["| in-process, one replayed request through every hook (mitmproxy's dispatch, test flow included) "
                  "| µs per flow |", "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {v:.1f} |" for name, v in h.items()] + [""]
    if "scale" in res:
        lines += ["| recordings (7.6 KB streamed) | first replay, cold | every file indexed, cold | first replay, warm "
                  "| lookup median | RSS |", "|---|---|---|---|---|---|"]  # fmt: skip
        for n, s in res["scale"].items():
            cold = "" if s.get("page_cache_dropped") else " (page cache kept)"
            lines.append(f"| {int(n):,} | {s['first_replay_cold_s']:.2f} s ({s['first_replay_cold_vs_smallest']:.2f}×)"
                         f"{cold} | {s['indexed_cold_s']:.2f} s | {s['first_replay_warm_s']:.2f} s | "
                         f"{s['lookup_ms_median']:.2f} ms | {s['rss_mb']:.0f} MB |")  # fmt: skip
        lines += [""]
    if "soak" in res:
        soak_rss = res["soak"]["rss_mb_by_requests"]
        lines += ["soak, RSS by replayed requests: " + ", ".join(f"{k}: {v:.0f} MB" for k, v in soak_rss.items()), ""]
    if "large_bodies" in res:
        lines += ["| other flows' p50 / p99, idle → while this crosses the proxy | mitmdump alone | llm-vcr live "
                  "(passed through) | llm-vcr auto (recorded) | p99 during, recorded vs passed through |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for what, r in res["large_bodies"].items():
            cells = [f"{r[m]['idle']['p50_ms']:.1f} / {r[m]['idle']['p99_ms']:.1f} → {r[m]['during']['p50_ms']:.1f} / "
                     f"{r[m]['during']['p99_ms']:.1f} ms" for m in ("mitmdump", "passed_through", "recorded")
            ]  # fmt: skip
            lines.append(f"| {what} | {' | '.join(cells)} | {(r['p99_ratio'] - 1) * 100:+.0f} % |")
    return "\n".join(lines).rstrip()


def chart(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    t = res["replay_throughput"]
    names = list(t["json"])
    for i, kind in enumerate(t):
        a.bar([x + i * 0.4 for x in range(len(names))], [t[kind][n]["req_per_s"] for n in names], 0.4, label=kind)
    a.set_xticks([x + 0.2 for x in range(len(names))], [n.replace(" (ceiling)", "\n(ceiling)") for n in names],
                 fontsize=8)  # fmt: skip
    a.set_ylabel("requests/s")
    a.set_title("replay throughput (wrk, 8 connections)")
    a.set_ylim(0, 1.25 * max(t[k][n]["req_per_s"] for k in t for n in names))  # room for the legend
    a.legend(loc="upper right", ncol=2)
    rows = res["latency"]["json"]
    configs = list(dict.fromkeys(k.rsplit(" @", 1)[0] for k in rows))
    for i, (c, stat) in enumerate([(1, "p50_ms"), (1, "p99_ms"), (8, "p50_ms"), (8, "p99_ms")]):
        b.bar([x + i * 0.2 for x in range(len(configs))], [rows[f"{n} @{c}"][stat] for n in configs], 0.2,
              label=f"{stat[:3]} @{c} client{'s' if c > 1 else ''}")  # fmt: skip
    b.set_xticks([x + 0.3 for x in range(len(configs))], [n.replace(" (", "\n(") for n in configs], fontsize=7)
    b.set_ylabel("ms per request")
    b.set_title("per-request latency, non-streaming")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
