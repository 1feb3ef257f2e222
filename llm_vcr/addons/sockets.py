"""WebSocket replay: a recorded session served over a real socket, without the upstream.

The handshake is diverted to the loopback server (`loopback.py`), which accepts it (`wsproto`) and
plays the session (`matching/session.py`): the server's messages up to the next client message, then
the client's message is matched, and so on; with `vcr_timing`, each server message keeps its recorded
delay after the message before it. mitmproxy relays the socket as for any upstream, so mitmweb shows
the messages. A client message no recording expects is a miss: the client gets an `error` event
saying what differs, then a close (1008), and the run's exit status says so.
"""

from __future__ import annotations

import asyncio
import logging
import time

from mitmproxy import ctx, hooks, http
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Request, TextMessage

from llm_vcr import bodies
from llm_vcr.addons.loopback import Loopback
from llm_vcr.addons.pacer import sleep_until
from llm_vcr.matching.session import Mismatch, Outgoing, SessionReplay
from llm_vcr.scopes import Scope
from llm_vcr.vcr import Vcr

log = logging.getLogger("llm_vcr")

POLICY_VIOLATION = 1008  # RFC 6455: the message is not one this endpoint accepts; not retried by SDKs
# Between the error event of a miss and the close: a client that sends its next messages before it reads
# (the openai SDK sends item.create and response.create back to back) must still be able to send them and
# then read the error, not fail on a socket already closed.
MISS_CLOSE_AFTER_S = 0.5


class SocketReplay:
    name = "vcr_sockets"

    def __init__(self, vcr: Vcr, loopback: Loopback) -> None:
        self.vcr = vcr
        self.loopback = loopback

    def divert(self, flow: http.HTTPFlow, session: SessionReplay, scope: Scope | None) -> bool:
        """Answer this handshake from the loopback server with `session`; False if it is not running."""

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, headers) -> bool:
            await _Player(self.vcr, flow, session, scope, reader, writer).run(head)
            return False  # the connection was the socket: closed after it

        return self.loopback.divert(flow, serve)


class _Player:
    """One session over one connection, from the handshake to the close."""

    def __init__(self, vcr: Vcr, flow: http.HTTPFlow, session: SessionReplay, scope: Scope | None,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:  # fmt: skip
        self.vcr, self.flow, self.session, self.scope = vcr, flow, session, scope
        self.reader, self.writer = reader, writer
        self.conn = WSConnection(ConnectionType.SERVER)
        self.parts: list[str | bytes] = []  # the fragments of the message being received
        self.anchor = (time.time(), session.client_offset())  # (now, recorded offset) of the last step
        self.closed = False

    async def run(self, head: bytes) -> None:
        self.conn.receive_data(head)
        request = next((e for e in self.conn.events() if isinstance(e, Request)), None)
        if request is None:
            return
        sub = self.session.subprotocol
        accept = AcceptConnection(
            subprotocol=sub if sub in request.subprotocols else None, extra_headers=[(b"x-llm-vcr", b"replay")]
        )
        await self._write(self.conn.send(accept))
        await self._send_due()
        while not self.closed:
            data = await self.reader.read(65536)
            if not data:
                break
            self.conn.receive_data(data)
            for event in self.conn.events():
                await self._on(event)
                if self.closed:
                    break

    async def _on(self, event: object) -> None:
        if isinstance(event, Ping):
            await self._write(self.conn.send(event.response()))
        elif isinstance(event, CloseConnection):
            self.closed = True
            await self._write(self.conn.send(event.response()))
        elif isinstance(event, TextMessage | BytesMessage):
            self.parts.append(event.data)
            if not event.message_finished:
                return
            text = isinstance(event, TextMessage)
            content = "".join(self.parts).encode() if text else b"".join(self.parts)  # type: ignore[arg-type]
            self.parts = []
            mismatch = self.session.receive(text, content)
            if mismatch is not None:
                await self._miss(mismatch)
                return
            self.anchor = (time.time(), self.session.client_offset())
            await self._send_due()

    async def _send_due(self) -> None:
        for out in self.session.due():
            await self._pace(out)
            message: Message = TextMessage(out.content.decode()) if out.text else BytesMessage(out.content)
            await self._write(self.conn.send(message))
        for path in self.session.served:
            self.vcr.served.add(path)
            if self.scope is not None:
                self.scope.served.add(path)
        if self.session.finished and (close := self.session.close()) is not None:
            await self._close(*close)

    async def _pace(self, out: Outgoing) -> None:
        speed = self.vcr.speed
        real, recorded = self.anchor
        if speed is None or out.at_ms is None or recorded is None:
            return
        await sleep_until(real + max(0.0, out.at_ms - recorded) / 1000 / speed)
        self.anchor = (time.time(), out.at_ms)

    async def _miss(self, mismatch: Mismatch) -> None:
        vcr, flow = self.vcr, self.flow
        vcr.stats.misses += 1
        vcr.stats.miss_keys.append(self.session.key)
        if self.scope is not None:
            self.scope.misses += 1
            self.scope.miss_keys.append(self.session.key)
            self.scope.messages.append(mismatch.message)
        log.warning(mismatch.message)
        flow.marked, flow.comment = ":x:", mismatch.message
        try:  # the flow's row in mitmweb shows the miss
            ctx.master.addons.trigger(hooks.UpdateHook([flow]))
        except Exception:
            pass
        detail = {"type": "invalid_request_error", "code": "llm_vcr_miss", "message": mismatch.message}
        error = {"type": "error", "event_id": "llm_vcr_miss", "error": detail}  # as the Realtime API reports errors
        await self._write(self.conn.send(TextMessage(bodies.dumps(error).decode())))
        await asyncio.sleep(MISS_CLOSE_AFTER_S)
        await self._close(POLICY_VIOLATION, "llm-vcr: replay miss (see the error event)")

    async def _close(self, code: int, reason: str) -> None:
        self.closed = True
        await self._write(self.conn.send(CloseConnection(code=code, reason=reason)))

    async def _write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()
