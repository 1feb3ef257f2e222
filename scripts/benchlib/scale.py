"""4. Scale: time until the first replay and until every file is indexed, lookup time and RSS, over
folders of 1k, 10k and 100k realistic recordings (7.6 KB streamed chat answers, as llm-vcr writes them),
cold (no index cache, and the page cache dropped when this runs as root) and warm (a restart);
5. soak: RSS over 10k replays."""

from __future__ import annotations

import http.client
import json
import random
import shutil
import statistics
import time
from pathlib import Path

import orjson
from common import addon, drop_page_cache, log, mitmdump, post

from llm_vcr.apis import CHAT
from llm_vcr.matching.keys import request_key

CHUNKS = 40  # about 7.6 KB a file, pretty-printed


def synthetic_folder(folder: Path, n: int) -> list[bytes]:
    """`n` streamed chat recordings named as llm-vcr names them; the request bodies, in order."""
    folder.mkdir(parents=True)
    bodies = []
    for i in range(n):
        body = {"model": "small", "messages": [{"role": "user", "content": f"question {i}"}], "stream": True}
        key = request_key("POST", CHAT, body)
        chunks = [{"__type__": "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
                   "__data__": {"id": f"c{i}", "object": "chat.completion.chunk", "created": 1, "model": "small",
                                "choices": [{"index": 0, "delta": {"content": f"word{j} "}, "finish_reason": None}]}}
                  for j in range(CHUNKS)]  # fmt: skip
        doc = {
            "request": {"method": "POST", "url": "http://127.0.0.1/v1/chat/completions", "headers": {}, "body": body,
                        "endpoint": "/v1/chat/completions", "model": "small"},
            "response": {"body": chunks, "is_streaming": True},
        }  # fmt: skip
        (folder / f"chat_completions-{key}-000.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        bodies.append(orjson.dumps(body))
    return bodies


def _status(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/chat/completions", body=body, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def scale(work: Path, sizes: list[int], lookups: int) -> dict:
    out: dict = {}
    miss = json.dumps({"model": "small", "messages": [{"role": "user", "content": "not recorded"}]}).encode()
    for n in sizes:
        folder = work / f"scale-{n}"
        log(f"scale: writing {n:,} synthetic recordings")
        bodies = synthetic_folder(folder, n)
        cache = work / f"index-cache-{n}"
        row: dict = {}
        for phase in ("cold", "warm"):  # cold: no index cache, files not in memory; warm: a restart
            if phase == "cold":
                row["page_cache_dropped"] = drop_page_cache()
            t0 = time.perf_counter()
            p = mitmdump(9, *addon(f"vcr_dir={folder}"), work=work, name=f"scale-{n}-{phase}",
                         env={"LLM_VCR_INDEX_CACHE": str(cache)})  # fmt: skip
            conn = http.client.HTTPConnection("127.0.0.1", p.port)
            post(conn, bodies[random.randrange(n)])
            row[f"first_replay_{phase}_s"] = time.perf_counter() - t0
            assert _status(p.port, miss) == 404  # a miss is answered once every file is indexed
            row[f"indexed_{phase}_s"] = time.perf_counter() - t0
            if phase == "warm":
                times = [post(conn, body)[1] * 1000 for body in random.sample(bodies, min(lookups, n))]
                row["lookup_ms_median"] = statistics.median(times)
                row["rss_mb"] = p.rss_mb()
            p.stop()
        out[str(n)] = row
        log(f"  {n}: {row}")
        shutil.rmtree(folder)
    first = out[str(sizes[0])]
    for row in out.values():
        row["first_replay_cold_vs_smallest"] = row["first_replay_cold_s"] / first["first_replay_cold_s"]
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
