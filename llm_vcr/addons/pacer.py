"""Paced replay (`vcr_timing=real` or `4x`): recorded streams replayed at their recorded pace.

mitmproxy sends a response made in the `request` hook in one write, so a paced replay is
made to look like an upstream: the flow is redirected to a loopback HTTP/1.1 server in this
process, which writes each piece at its recorded offset (from the original request's start,
divided by the speed). The real upstream is never contacted: the only dial is to ourselves,
which `OfflineGuard` allows. `vcr_timing=none` (the default) keeps the instant path.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time

from mitmproxy import ctx, exceptions, http

from llm_vcr.pacing import Schedule, parse_speed, schedule
from llm_vcr.store.recording import ReplayResponse
from llm_vcr.vcr import META, Vcr

log = logging.getLogger("llm_vcr")

TOKEN_HEADER = "x-llm-vcr-replay"


class Pacer:
    name = "vcr_pacer"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self.plans: dict[str, tuple[ReplayResponse, Schedule, float]] = {}
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None

    def load(self, loader) -> None:
        loader.add_option(
            "vcr_timing", str, "none",
            "Replay pace of recorded streams: none (instant), real (the recorded time to first chunk and "
            "gaps), or a speed factor such as 4x or 0.5x.",
        )  # fmt: skip

    def configure(self, updated: set[str]) -> None:
        if "vcr_timing" in updated:
            try:
                self.vcr.speed = parse_speed(ctx.options.vcr_timing)
            except ValueError as e:
                raise exceptions.OptionsError(str(e)) from e

    def running(self) -> None:
        if self._sock is not None:
            return
        # Bound synchronously so the address is known before the first flow (notes: hot reload
        # calls running() synchronously too).
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.setblocking(False)
        self.vcr.pacer_address = self._sock.getsockname()[:2]
        asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, sock=self._sock)

    def done(self) -> None:
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        self._sock = self._server = None
        self.vcr.pacer_address = None

    # ---- flow side -----------------------------------------------------------------

    def divert(self, flow: http.HTTPFlow, answer: ReplayResponse) -> bool:
        """Send this hit through the pacing server; False if it cannot be paced (answer instantly)."""
        if self.vcr.speed is None or self.vcr.pacer_address is None:
            return False
        plan = schedule(answer, self.vcr.speed)
        if plan is None:
            return False
        token = secrets.token_hex(12)
        self.plans[token] = (answer, plan, flow.request.timestamp_start)
        meta = flow.metadata[META]
        meta["paced_from"] = [flow.request.scheme, flow.request.host, flow.request.port]
        flow.request.headers[TOKEN_HEADER] = token
        host, port = self.vcr.pacer_address
        flow.request.scheme, flow.request.host, flow.request.port = "http", host, port
        return True

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        meta = flow.metadata.get(META)
        if isinstance(meta, dict) and meta.get("paced_from") and flow.response is not None:
            flow.response.stream = True  # pass each piece on as the pacing server writes it

    def response(self, flow: http.HTTPFlow) -> None:
        meta = flow.metadata.get(META)
        if isinstance(meta, dict) and meta.get("paced_from"):
            # Cosmetic, so logs and mitmweb show the real URL: the request has gone already.
            flow.request.scheme, flow.request.host, flow.request.port = meta["paced_from"]
            flow.request.headers.pop(TOKEN_HEADER, None)

    # ---- server side ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: mitmproxy pools upstream connections
                head = await reader.readuntil(b"\r\n\r\n")
                headers = _headers(head)
                await reader.readexactly(int(headers.get("content-length", "0") or 0))
                plan = self.plans.pop(headers.get(TOKEN_HEADER, ""), None)
                if plan is None:
                    body = b'{"error":{"message":"llm-vcr: unknown or reused paced-replay token","type":"llm_vcr"}}'
                    writer.write(b"HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\nx-should-retry: false\r\n"
                                 b"content-length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
                    await writer.drain()
                    continue
                await self._play(writer, *plan)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    async def _play(self, writer: asyncio.StreamWriter, answer: ReplayResponse, plan: Schedule, t0: float) -> None:
        await _sleep_until(t0 + plan.headers_at)
        extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        writer.write(
            f"HTTP/1.1 {answer.status} OK\r\ncontent-type: {answer.content_type}\r\nx-llm-vcr: replay\r\n"
            f"{extra}transfer-encoding: chunked\r\n\r\n".encode()
        )
        await writer.drain()
        for at, piece in plan.pieces:
            await _sleep_until(t0 + at)
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out
