"""Paced replay (`vcr_timing=real` or `4x`): recorded streams replayed at their recorded pace.

mitmproxy sends a response made in the `request` hook in one write, so a paced replay goes through
the loopback server (`loopback.py`), which writes each piece at its recorded offset (from the
original request's start, divided by the speed). `vcr_timing=none` (the default) keeps the instant
path.
"""

from __future__ import annotations

import asyncio
import time

from mitmproxy import ctx, exceptions, http

from llm_vcr.addons.loopback import Loopback
from llm_vcr.pacing import Schedule, parse_speed, schedule
from llm_vcr.store.recording import ReplayResponse
from llm_vcr.vcr import Vcr


class Pacer:
    name = "vcr_pacer"

    def __init__(self, vcr: Vcr, loopback: Loopback) -> None:
        self.vcr = vcr
        self.loopback = loopback

    def load(self, loader) -> None:
        loader.add_option(
            "vcr_timing", str, "none",
            "Replay pace of recorded streams and WebSocket sessions: none (instant), real (the recorded time "
            "to first chunk and gaps), or a speed factor such as 4x or 0.5x.",
        )  # fmt: skip

    def configure(self, updated: set[str]) -> None:
        if "vcr_timing" in updated:
            try:
                self.vcr.speed = parse_speed(ctx.options.vcr_timing)
            except ValueError as e:
                raise exceptions.OptionsError(str(e)) from e

    def divert(self, flow: http.HTTPFlow, answer: ReplayResponse) -> bool:
        """Send this hit through the loopback server at its pace; False if it cannot be paced (answer
        instantly)."""
        if self.vcr.speed is None:
            return False
        plan = schedule(answer, self.vcr.speed)
        if plan is None:
            return False
        t0 = flow.request.timestamp_start

        async def play(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, headers) -> bool:
            await reader.readexactly(int(headers.get("content-length", "0") or 0))
            await _play(writer, answer, plan, t0)
            return True

        return self.loopback.divert(flow, play)


async def _play(writer: asyncio.StreamWriter, answer: ReplayResponse, plan: Schedule, t0: float) -> None:
    await sleep_until(t0 + plan.headers_at)
    extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
    writer.write(
        f"HTTP/1.1 {answer.status} OK\r\ncontent-type: {answer.content_type}\r\nx-llm-vcr: replay\r\n"
        f"{extra}transfer-encoding: chunked\r\n\r\n".encode()
    )
    await writer.drain()
    for at, piece in plan.pieces:
        await sleep_until(t0 + at)
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def sleep_until(deadline: float) -> None:
    delay = deadline - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
