"""A loopback server in this process that answers flows diverted to it, as if it were the upstream.

mitmproxy sends a response made in the `request` hook in one write, and cannot answer a WebSocket
handshake without a server. So a replay that needs time (paced streams) or a socket (WebSocket
sessions) is made to look like an upstream: `divert` points the flow at `127.0.0.1:<port>` with a
one-time token in a header, and the server hands the connection to the handler registered under
that token. The real upstream is never contacted: the only dial is to ourselves, which
`OfflineGuard` allows.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Awaitable, Callable

from mitmproxy import http

from llm_vcr.addons.hooks import FlowHook
from llm_vcr.vcr import META, Vcr

TOKEN_HEADER = "x-llm-vcr-replay"

# A handler gets the connection after the request head was read: (reader, writer, head, headers).
# It returns True to keep the connection for the next request (HTTP keep-alive), False to close it.
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes, dict[str, str]], Awaitable[bool]]

_GONE = b'{"error":{"message":"llm-vcr: unknown or reused replay token","type":"llm_vcr"}}'


class Loopback:
    name = "vcr_loopback"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self.handlers: dict[str, Handler] = {}
        self._diverted: set[str] = set()  # flows sent to the loopback server whose response has not ended
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None

    def running(self) -> None:
        if self._sock is not None:
            return
        # Bound synchronously so the address is known before the first flow (notes: hot reload
        # calls running() synchronously too).
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.setblocking(False)
        self.vcr.loopback_address = self._sock.getsockname()[:2]
        asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, sock=self._sock)

    def done(self) -> None:
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        self._sock = self._server = None
        self.vcr.loopback_address = None

    # ---- flow side -----------------------------------------------------------------

    def divert(self, flow: http.HTTPFlow, handler: Handler) -> bool:
        """Send this flow to the loopback server, answered by `handler`; False if it is not running."""
        if self.vcr.loopback_address is None:
            return False
        token = secrets.token_hex(12)
        self.handlers[token] = handler
        self._diverted.add(flow.id)
        flow.metadata[META]["diverted_from"] = [flow.request.scheme, flow.request.host, flow.request.port]
        flow.request.headers[TOKEN_HEADER] = token
        host, port = self.vcr.loopback_address
        flow.request.scheme, flow.request.host, flow.request.port = "http", host, port
        return True

    # Only diverted flows need these hooks: hidden otherwise (see `hooks.FlowHook`).
    def _busy(self) -> bool:
        return bool(self._diverted)

    responseheaders, response, error = FlowHook(_busy), FlowHook(_busy), FlowHook(_busy)

    def _responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.id in self._diverted and flow.response is not None and flow.response.status_code != 101:
            flow.response.stream = True  # pass each piece on as the loopback server writes it

    def _response(self, flow: http.HTTPFlow) -> None:
        if flow.id in self._diverted:
            self._diverted.discard(flow.id)
            # Cosmetic, so logs and mitmweb show the real URL: the request has gone already.
            flow.request.scheme, flow.request.host, flow.request.port = flow.metadata[META]["diverted_from"]
            flow.request.headers.pop(TOKEN_HEADER, None)

    def _error(self, flow: http.HTTPFlow) -> None:
        self._response(flow)

    # ---- server side ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: mitmproxy pools upstream connections
                head = await reader.readuntil(b"\r\n\r\n")
                headers = parse_head(head)
                handler = self.handlers.pop(headers.get(TOKEN_HEADER, ""), None)
                if handler is None:
                    await reader.readexactly(int(headers.get("content-length", "0") or 0))
                    writer.write(b"HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\nx-should-retry: false\r\n"
                                 b"content-length: %d\r\n\r\n%s" % (len(_GONE), _GONE))  # fmt: skip
                    await writer.drain()
                    continue
                if not await handler(reader, writer, head, headers):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()


def parse_head(head: bytes) -> dict[str, str]:
    """The header fields of a request head, lower-cased names."""
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out
