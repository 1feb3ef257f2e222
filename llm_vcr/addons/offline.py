"""Replay never reaches the network: a connection-level backstop behind the `request` hook.

Replay answers every LLM-shaped request in `request`, so no upstream connection is needed. This
addon also refuses, in `server_connect`, any dial to a well-known LLM API host, to the reverse-proxy
target, or to an address that LLM requests were sent to in this run (`Replay.request` learns them, before
any dial: mitmproxy connects after `request` with the lazy strategy); with `vcr_offline=true`, any
dial at all. Whatever else goes wrong (another addon dropping our response, a future mitmproxy
change), a replay run cannot reach, and pay, an LLM API.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx
from mitmproxy.proxy import server_hooks

from llm_vcr.apis import guard
from llm_vcr.vcr import Vcr

log = logging.getLogger("llm_vcr")


class OfflineGuard:
    name = "vcr_offline"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr

    def load(self, loader) -> None:
        loader.add_option(
            "vcr_offline", bool, False,
            "In replay mode, refuse every upstream connection, not only those to LLM APIs "
            "(hermetic test runs; other traffic then fails with 502).",
        )  # fmt: skip

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if self.vcr.may_dial or data.server.address is None:
            return
        host, port = data.server.address[0].lower(), data.server.address[1]
        if (host, port) == self.vcr.loopback_address:
            return  # paced and WebSocket replay: the loopback server in this very process
        if ctx.options.vcr_offline or (host, port) in self.vcr.llm_upstreams or guard.is_llm_host(host):
            self.vcr.stats.blocked += 1
            data.server.error = f"llm-vcr: replay mode does not connect to upstreams ({host}:{port} refused)"
            log.warning(data.server.error)
