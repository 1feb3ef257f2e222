"""200 concurrent streaming requests while recording: all stored, none mixed up; identical
concurrent requests all kept; replaying the same load serves every one correctly."""

import asyncio
import json
from collections import Counter

import httpx2

from llm_vcr.framings import sse
from llm_vcr.store import RecordingStore

from ..e2e.harness import Mitmdump
from .upstream import CHUNKS, EchoUpstream, request

DISTINCT, IDENTICAL = 200, 20


async def fire(proxy_url: str, bodies: list[dict]) -> list[list[dict]]:
    limits = httpx2.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx2.AsyncClient(base_url=proxy_url, timeout=120, limits=limits, trust_env=False) as client:

        async def one(body: dict) -> list[dict]:
            r = await client.post("/v1/chat/completions", json=body)
            assert r.status_code == 200, r.text
            events = sse.parse(r.content)
            assert events[-1].is_done
            return [json.loads(e.data) for e in events[:-1]]

        return await asyncio.gather(*(one(b) for b in bodies))


def text(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"]["content"] for c in chunks)


def test_concurrent_streams_record_and_replay_without_mixups(tmp_path):
    up = EchoUpstream()
    vcr_dir = tmp_path / "recs"
    bodies = [request(f"m{i}") for i in range(DISTINCT)] + [request("same")] * IDENTICAL
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            live = asyncio.run(fire(p.url, bodies))
        for body, chunks in zip(bodies, live, strict=True):
            marker = body["messages"][0]["content"]
            assert text(chunks) == "".join(f"{marker}:{i} " for i in range(CHUNKS))
        report = p.stop()
        assert report["recorded"] == DISTINCT + IDENTICAL

        store = RecordingStore(vcr_dir)
        assert store.load().loaded == DISTINCT + IDENTICAL
        for seq in store.entries().values():
            for path, rec in seq:
                marker = rec.body["messages"][0]["content"]
                assert text(rec.chunks) == "".join(f"{marker}:{i} " for i in range(CHUNKS)), path
        same = [seq for seq in store.entries().values() if seq[0][1].body["messages"][0]["content"] == "same"]
        assert len(same) == 1 and len(same[0]) == IDENTICAL  # all kept, numbered 000…019
        assert [p.name.rsplit("-", 1)[1] for p, _ in same[0]] == [f"{i:03d}.json" for i in range(IDENTICAL)]

        with Mitmdump(tmp_path, vcr_dir, "replay", reverse=up.url) as p:
            replayed = asyncio.run(fire(p.url, bodies))
        assert replayed[:DISTINCT] == live[:DISTINCT]  # each distinct request got its own answer back
        ids = Counter(c[0]["id"] for c in replayed[DISTINCT:])  # identical ones: each recording served once
        assert ids == Counter(c[0]["id"] for c in live[DISTINCT:]) and len(ids) == IDENTICAL
        assert len(up.requests) == DISTINCT + IDENTICAL  # replay added none
    finally:
        up.close()
