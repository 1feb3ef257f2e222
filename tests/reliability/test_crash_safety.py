"""kill -9 of mitmdump at random moments during heavy recording leaves no corrupt file and no
partial recording that would replay as complete."""

import asyncio
import json
import random
import signal
import time

import httpx2

from llm_vcr.store import RecordingStore

from ..e2e.harness import Mitmdump
from .upstream import CHUNKS, EchoUpstream, request

CYCLES = 20
IN_FLIGHT = 25


async def load(url: str, cycle: int, seconds: float) -> None:
    async with httpx2.AsyncClient(base_url=url, timeout=30, trust_env=False) as client:

        async def one(i: int) -> None:
            try:
                await client.post("/v1/chat/completions", json=request(f"c{cycle}-{i % 10}"))
            except httpx2.HTTPError:
                pass  # the proxy died under us: that is the point

        tasks = [asyncio.create_task(one(i)) for i in range(IN_FLIGHT)]
        await asyncio.sleep(seconds)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_kill_9_during_recording_never_corrupts(tmp_path):
    rng = random.Random(1234)  # reproducible kill moments
    up = EchoUpstream(delay=0.01)  # 20 chunks: ~0.2 s a stream, so kills land mid-stream and mid-write
    vcr_dir = tmp_path / "recs"
    try:
        for cycle in range(CYCLES):
            proxy = Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url)
            kill_at = rng.uniform(0.05, 0.6)
            t0 = time.monotonic()
            asyncio.run(load(proxy.url, cycle, kill_at))
            proxy.proc.send_signal(signal.SIGKILL)
            proxy.stop()  # already dead: only reaps it and closes its log
            assert time.monotonic() - t0 < 30
    finally:
        up.close()

    files = [p for p in vcr_dir.iterdir() if not p.name.startswith(".")]
    assert files, "nothing was recorded at all: the test did not exercise writes"
    for path in files:
        json.loads(path.read_text())  # every published file is whole
    store = RecordingStore(vcr_dir)
    report = store.load()
    assert report.skipped == []
    assert report.loaded > 0
    assert not list(vcr_dir.glob(".tmp-*"))  # what killed writers left behind is cleaned up on load
    for seq in store.entries().values():
        for path, rec in seq:  # whatever replays is complete: all chunks, the final one included
            assert len(rec.chunks) == CHUNKS and rec.chunks[-1]["choices"][0]["finish_reason"] == "stop", path
