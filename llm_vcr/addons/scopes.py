"""Which scope (test) a flow belongs to, and the control API that binds scopes to client processes.

Runs before `Replay`. A scope comes, first match wins, from the `x-llm-vcr-scope` header (stripped),
the user name of the proxy credentials (on the request, or on the CONNECT of its tunnel), or the
client process bound through the control API (`POST /__llm-vcr/scope` on any host, or any path of
`http://llm-vcr.control`), found from `/proc` once per connection. Both the process lookup and the
opening of a scope's folder run in a thread: the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from mitmproxy import connection, http

from llm_vcr import scopes
from llm_vcr.addons.hooks import header_names
from llm_vcr.scopes import Scope
from llm_vcr.vcr import MODES, Vcr

log = logging.getLogger("llm_vcr")

SCOPE_META = "llm_vcr_scope"  # flow.metadata key: the scope's name
_HEADER = scopes.HEADER.encode()


def _credentials_user(headers: http.Headers) -> str | None:
    auth = headers.get("proxy-authorization", "")
    kind, _, value = auth.partition(" ")
    if kind.lower() != "basic" or not value:
        return None
    try:
        pair = base64.b64decode(value.strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    # Clients percent-decode the user name before they build Basic credentials, so a scope such as
    # `tests/a.py::test_x` arrives with its colons: the password (usually empty) is after the last one.
    user = pair.rpartition(":")[0] if ":" in pair else pair
    return unquote(user) or None


class Scopes:
    name = "vcr_scopes"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self._tunnel: dict[str, str] = {}  # client connection id -> scope from its CONNECT's credentials
        # client connection id -> (bindings generation, its process and that process's ancestors), None when
        # it was below no bound process then; looked up again only after the bindings changed
        self._chain: dict[str, tuple[int, list[int] | None]] = {}
        self._generation = 0

    # ---- finding a flow's scope ------------------------------------------------------------

    def http_connect(self, flow: http.HTTPFlow) -> None:
        if (user := _credentials_user(flow.request.headers)) is not None:
            self._tunnel[flow.client_conn.id] = user
            flow.request.headers.pop("proxy-authorization", None)

    def client_disconnected(self, client: connection.Client) -> None:
        self._tunnel.pop(client.id, None)
        self._chain.pop(client.id, None)

    def requestheaders(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if _is_control(flow.request):
            return None
        present = header_names(flow.request.headers)
        name = flow.request.headers.pop(scopes.HEADER, None) if _HEADER in present else None
        if name is None and b"proxy-authorization" in present:
            if (name := _credentials_user(flow.request.headers)) is not None:
                flow.request.headers.pop("proxy-authorization", None)
        if name is None:
            name = self._tunnel.get(flow.client_conn.id)
        if name is None and self.vcr.bindings:
            return self._from_process(flow)
        if name is None:
            return None
        if name in self.vcr.scopes:
            flow.metadata[SCOPE_META] = name
            return None
        return self._open(flow, name)

    async def _from_process(self, flow: http.HTTPFlow) -> None:
        conn, peer = flow.client_conn.id, flow.client_conn.peername
        generation, chain = self._chain.get(conn, (-1, None))
        if chain is None and generation != self._generation and peer:
            chain = await asyncio.to_thread(scopes.client_chain, peer[0], peer[1], set(self.vcr.bindings))
            self._chain[conn] = (self._generation, chain)
        name = next((self.vcr.bindings[pid] for pid in chain or () if pid in self.vcr.bindings), None)
        if name is not None:
            await self._open(flow, name)

    async def _open(self, flow: http.HTTPFlow, name: str, mode: str | None = None) -> Scope | None:
        scope = await self.ensure(name, mode)
        if scope is not None:
            flow.metadata[SCOPE_META] = name
        return scope

    async def ensure(self, name: str, mode: str | None = None) -> Scope | None:
        scope = self.vcr.scopes.get(name)
        if scope is None:
            try:
                scope = await asyncio.to_thread(scopes.open_scope, self.vcr.store.root, name, mode, self.vcr.max_file)
            except ValueError as e:
                log.error(f"llm-vcr: scope {name!r} not used: {e}")
                return None
            scope = self.vcr.scopes.setdefault(name, scope)
            log.info(f"llm-vcr: scope {name} -> {scope.store.root} ({len(scope.store)} recordings)")
        if mode is not None:
            self.vcr.set_scope_mode(scope, mode)
        return scope

    # ---- the control API -------------------------------------------------------------------

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if flow.response is not None or not _is_control(flow.request):
            return None
        return self._control(flow)

    async def _control(self, flow: http.HTTPFlow) -> None:
        req = flow.request
        try:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(req.path).query).items()}
            body = orjson.loads(req.content) if req.content else {}
            args = {**query, **(body if isinstance(body, dict) else {})}
            name = args.get("scope")
            if not isinstance(name, str) or not name:
                raise ValueError('give the scope: {"scope": "tests/test_x.py::test_y", "pid": 1234}')
            pid = int(args["pid"]) if args.get("pid") not in (None, "") else None
            mode = args.get("mode") or None
            if mode is not None and mode not in MODES:
                raise ValueError(f"mode must be one of {', '.join(MODES)}")
            if req.method == "POST":
                scope = await self.ensure(name, mode)
                if scope is None:
                    raise ValueError(f"{name!r} is not a usable scope name")
                scope.store.rewind()  # a test that starts (again) replays its recordings from the first
                if pid is not None:
                    self.vcr.bindings[pid] = name
                    self._generation += 1
                answer = scope.summary()
            elif req.method in ("GET", "DELETE"):
                scope = self.vcr.scopes.get(name)
                answer = scope.summary() if scope is not None else {"scope": name, "hits": 0, "misses": 0}
                if req.method == "DELETE" and pid is not None and self.vcr.bindings.get(pid) == name:
                    del self.vcr.bindings[pid]
                    self._generation += 1
            else:
                raise ValueError("use POST (bind), GET (summary) or DELETE (unbind)")
            flow.response = http.Response.make(200, orjson.dumps(answer), {"content-type": "application/json"})
        except (ValueError, KeyError, orjson.JSONDecodeError) as e:
            body = orjson.dumps({"error": {"message": f"llm-vcr control: {e}", "type": "llm_vcr_control"}})
            flow.response = http.Response.make(400, body, {"content-type": "application/json"})
        flow.metadata["llm_vcr"] = {"outcome": "control"}


def _is_control(req: http.Request) -> bool:
    return req.host == scopes.CONTROL_HOST or req.path.startswith(scopes.CONTROL_PREFIX)
