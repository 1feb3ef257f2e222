"""Recognise LLM requests and, when replaying, answer them from recordings in `request`.

Answering in `request` (with connection_strategy=lazy) means mitmproxy never dials the
upstream. mitmproxy forwards a flow whose hook raised, so in replay mode every failure
here still answers with an error, and so does every LLM-shaped call llm-vcr cannot replay:
replay never reaches an LLM API.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable
from urllib.parse import urlsplit

from mitmproxy import http

from llm_vcr.addons.hooks import header_names
from llm_vcr.addons.pacer import Pacer
from llm_vcr.addons.scopes import SCOPE_META
from llm_vcr.addons.sockets import SocketReplay
from llm_vcr.apis import Resource, classify_endpoint, classify_request, guard, mcp
from llm_vcr.bodies import BodyTooLarge
from llm_vcr.framings import websocket
from llm_vcr.matching import misses, normalize
from llm_vcr.matching.request import OFF_LOOP_BYTES, Prepared, prepare
from llm_vcr.matching.session import SessionReplay
from llm_vcr.scopes import Scope
from llm_vcr.store import PENDING, RecordingStore, missed, read_file
from llm_vcr.store.recording import RecordingError, ReplayResponse
from llm_vcr.vcr import META, Vcr

log = logging.getLogger("llm_vcr")
_MCP_SESSION = mcp.SESSION_HEADER.encode()
RPC_ID = "llm_vcr_rpc_id"  # flow.metadata: the JSON-RPC id of a live MCP call
MEMO_BYTES, MEMO_ENTRIES = 16 * 1024, 512  # prepared requests kept: at most 8 MB of bodies


def _response(answer: ReplayResponse) -> http.Response:
    """A fresh response for `answer`, copied from one built once per recording.

    Shallow copies of the response, its data and its headers: everything they share is immutable (bytes,
    the headers' tuple of fields, which every change replaces), so the copy is independent. 5 µs, against
    26 µs for `Response.copy()` and 35 µs for `make()`, which re-check every field's type (measured).
    """
    template = answer.prepared
    if not isinstance(template, http.Response):
        headers = {"content-type": answer.content_type, **answer.headers, "x-llm-vcr": "replay"}
        template = answer.prepared = http.Response.make(answer.status, answer.body, headers)
    data = copy.copy(template.data)
    data.headers = copy.copy(data.headers)
    data.timestamp_start = data.timestamp_end = time.time()
    response = copy.copy(template)
    response.data = data
    return response


class Replay:
    name = "vcr_replay"

    def __init__(self, vcr: Vcr, pacer: Pacer | None = None, sockets: SocketReplay | None = None) -> None:
        self.vcr = vcr
        self.pacer = pacer
        self.sockets = sockets
        self._prepared: dict[tuple, Prepared] = {}  # small requests seen lately -> their prepared form
        self._memo_rules: normalize.Rules | None = None  # the rules those were prepared under

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        """Synchronous on the common paths. A miss, and a large or content-encoded body, return an
        awaitable (mitmproxy awaits it): that work runs in a thread, off the event loop."""
        # Already answered, or loaded from a file: nothing to do. A client replay (mitmweb's "Replay")
        # is a request like any other: answered from recordings in replay mode, recorded in record mode.
        if flow.response is not None or flow.is_replay == "response" or not flow.live:
            return None
        req = flow.request
        raw = req.raw_content if req.method == "POST" else None
        present = header_names(req.headers)
        upgrade = b"upgrade" in present and websocket.is_upgrade(req.headers)
        accept = req.headers.get("accept", "") if b"accept" in present else ""
        resource = classify_request(req.method, req.path, raw, accept, upgrade)
        if resource is not None and req.host:
            self.vcr.llm_upstreams.add((req.host.lower(), req.port))  # never dialled in replay mode (OfflineGuard)
        if resource is None:
            self.vcr.stats.other_requests += 1
            if not self._mcp_session(flow, present):
                self._guard(flow)
            return None
        self.vcr.stats.llm_requests += 1
        try:
            return self._handle(flow, resource, present)
        except Exception as e:
            self._failed(flow, e)
            return None

    def _mcp_session(self, flow: http.HTTPFlow, present: set[bytes]) -> bool:
        """Replay mode: an MCP session's server stream (GET) and its end (DELETE) are answered here."""
        req = flow.request
        if req.method not in ("GET", "DELETE") or _MCP_SESSION not in present:
            return False
        if not req.headers.get(mcp.SESSION_HEADER):
            return False
        if self.vcr.mode_of(self._scope(flow)) != "replay":
            return False
        flow.metadata[META] = {"outcome": "mcp-session"}
        status = 405 if req.method == "GET" else 200  # no server-to-client stream; the session ends
        flow.response = http.Response.make(status, b"", {"x-llm-vcr": "mcp-session"})
        return True

    def _guard(self, flow: http.HTTPFlow) -> None:
        """An LLM-shaped call llm-vcr does not replay: in replay mode answered here, never forwarded;
        in the other modes passed through with a warning that replay will refuse it."""
        req = flow.request
        replay = self.vcr.mode_of(self._scope(flow)) == "replay"
        verdict = guard.llm_call(req.host, req.path, self.vcr.llm_upstreams if replay else (), req.port)
        if verdict is None and (known := classify_endpoint(req.path)) is not None:
            verdict = guard.Verdict(f"{req.method} on {known.name}, which replay serves for {'/'.join(known.methods)}")
        if verdict is None or (not replay and (verdict.telemetry or verdict.host_only)):
            return
        call = f"{req.method} {guard.normalize_path(req.path) or '/'} ({verdict.what})"
        if not replay:
            if call not in self.vcr.stats.unsupported_calls:
                log.warning(f"llm-vcr: {call} passed through, NOT recorded: llm-vcr does not record this endpoint "
                            "yet, so replay will answer it with an error")  # fmt: skip
            self.vcr.unsupported(call)
            return
        flow.metadata[META] = {"outcome": "telemetry" if verdict.telemetry else "unsupported"}
        if verdict.telemetry:
            self.vcr.stats.telemetry += 1
            flow.response = http.Response.make(
                200, b"{}", {"content-type": "application/json", "x-llm-vcr": "telemetry"}
            )
            return
        self.vcr.unsupported(call)
        answer = misses.unsupported(req.method, req.pretty_url, verdict.what)
        log.warning(answer.message)
        flow.marked, flow.comment = ":x:", answer.message
        self._answer(flow, answer)

    def _scope(self, flow: http.HTTPFlow) -> Scope | None:
        name = flow.metadata.get(SCOPE_META)
        return self.vcr.scopes.get(name) if isinstance(name, str) else None

    def _store(self, flow: http.HTTPFlow) -> RecordingStore:
        scope = self._scope(flow)
        return scope.store if scope is not None else self.vcr.store

    def _failed(self, flow: http.HTTPFlow, error: Exception) -> None:
        log.exception("llm-vcr: error while handling an LLM request", exc_info=error)
        if self.vcr.mode_of(self._scope(flow)) == "replay":
            self._answer(flow, misses.internal(error))

    def _handle(self, flow: http.HTTPFlow, resource: Resource, present: set[bytes]) -> Awaitable[None] | None:
        meta: dict[str, str] = {"resource": resource.name}
        flow.metadata[META] = meta
        scope = self._scope(flow)
        if scope is not None:
            meta["scope"] = scope.name
        if self.vcr.mode_of(scope) == "live":
            meta["outcome"] = "live"
            return None
        req = flow.request
        raw = req.raw_content if resource.has_body else None
        encoding = req.headers.get("content-encoding") if b"content-encoding" in present else None
        args = (req.method, resource, raw, encoding, self.vcr.max_body, False, req.path)
        if encoding or (raw is not None and len(raw) > OFF_LOOP_BYTES):
            return self._handle_later(flow, resource, meta, args)
        # The same small request again (a retry, a test run twice, a poll): its key is known already.
        if normalize.active() is not self._memo_rules:  # keys are computed under other rules now
            self._memo_rules, self._prepared = normalize.active(), {}
        memo = (req.method, resource.name, req.path, raw) if len(raw or b"") <= MEMO_BYTES else None
        prepared = self._prepared.get(memo) if memo is not None else None
        if prepared is None:
            try:
                prepared = prepare(*args)
            except ValueError as e:
                self._unusable(flow, resource, meta, e)
                return None
            if memo is not None:
                if len(self._prepared) >= MEMO_ENTRIES:
                    self._prepared.pop(next(iter(self._prepared)))  # the oldest
                self._prepared[memo] = prepared
        return self._decide(flow, resource, meta, prepared)

    async def _handle_later(self, flow: http.HTTPFlow, resource: Resource, meta: dict[str, str], args: tuple) -> None:
        """Decoding, parsing, redacting and keying a big body happen in a thread: other flows go on."""
        try:
            try:
                prepared = await asyncio.to_thread(prepare, *args)
            except ValueError as e:
                self._unusable(flow, resource, meta, e)
                return
            pending = self._decide(flow, resource, meta, prepared)
            if pending is not None:
                await pending
        except Exception as e:  # still an answer: never forwarded in replay
            self._failed(flow, e)

    def _unusable(self, flow: http.HTTPFlow, resource: Resource, meta: dict[str, str], error: ValueError) -> None:
        meta["outcome"] = "unmatchable"
        call = f"{flow.request.method} {resource.name}"
        scope = self._scope(flow)
        if self.vcr.mode_of(scope) == "replay":
            self.vcr.stats.misses += 1
            answer = misses.too_large(str(error)) if isinstance(error, BodyTooLarge) else misses.unmatchable(str(error))
            log.warning(f"llm-vcr: {call}: {answer.message}")
            if scope is not None:
                scope.misses += 1
                scope.messages.append(answer.message)
            self._answer(flow, answer)
        else:
            self.vcr.not_recorded(call, str(error))

    def _decide(
        self, flow: http.HTTPFlow, resource: Resource, meta: dict[str, str], prepared: Prepared
    ) -> Awaitable[None] | None:
        mode = self.vcr.mode_of(self._scope(flow))
        key = meta["key"] = prepared.key
        if resource.api == "mcp":
            if mcp.is_notification(prepared.body):  # nothing to answer but "accepted", nothing to record
                meta["outcome"] = "mcp-notification"
                if mode == "replay":
                    flow.response = http.Response.make(202, b"", {"x-llm-vcr": "replay"})
                return None
            flow.metadata[RPC_ID] = prepared.body.get("id")
        if mode in ("replay", "auto"):
            hit = self._store(flow).take(key)
            if hit is PENDING:  # a big folder still being indexed, and the file names do not settle it
                return self._after_indexing(flow, resource, meta, prepared)
            if hit is not None:
                self._serve(flow, meta, hit)
                return None
        if mode == "replay":
            return self._miss(flow, resource, meta, prepared)
        meta["outcome"] = "recording"  # the Record addon tees the response
        return None

    async def _after_indexing(self, flow: http.HTTPFlow, resource: Resource, meta: dict[str, str],
                              prepared: Prepared) -> None:  # fmt: skip
        """Decide once every file is indexed by content: a miss is only ever answered then."""
        try:
            await self._store(flow).until_ready()
            pending = self._decide(flow, resource, meta, prepared)
            if pending is not None:
                await pending
        except Exception as e:  # still an answer: never forwarded in replay
            self._failed(flow, e)

    def _serve(self, flow: http.HTTPFlow, meta: dict[str, str], hit) -> None:
        vcr = self.vcr
        path, answer, rec = hit
        if rec is not None and rec.resource is not None and rec.resource.sse_query:
            answer = rec.replay_as(rec.resource.framing_for(urlsplit(flow.request.path).query))
        if rec is not None and rec.resource is mcp.CALL:  # the recorded result, under the live request's id
            framing = None if answer.frames is None else rec.resource.framing
            body = mcp.rewrite_ids(answer.body, framing, flow.metadata.get(RPC_ID))
            answer = ReplayResponse(answer.status, answer.content_type, body, answer.headers)
        meta.update(outcome="replayed", recording=str(path))
        vcr.stats.hits += 1
        vcr.served.add(path)
        if (scope := self._scope(flow)) is not None:
            scope.hits += 1
            scope.served.add(path)
        vcr.stats.tokens_saved += rec.tokens if rec is not None else 0
        flow.marked, flow.comment = ":repeat:", f"llm-vcr: replayed from {path.name}"
        if rec is not None and rec.socket is not None and rec.resource is not None:
            self._serve_session(flow, meta, path, rec)
            return
        if self.pacer is not None and self.pacer.divert(flow, answer):
            return  # served at the recorded pace by the loopback pacing server
        flow.response = _response(answer)
        flow.is_replay = "response"

    def _serve_session(self, flow: http.HTTPFlow, meta: dict[str, str], path, rec) -> None:
        """A WebSocket session: played by the loopback server over a real socket."""
        assert rec.resource is not None
        store, key = self._store(flow), meta["key"]
        others = [(p, r) for p, r in store.recordings_of(key) if p != path]
        session = SessionReplay(rec.resource, key, [(path, rec), *others])
        if self.sockets is None or not self.sockets.divert(flow, session, self._scope(flow)):
            self._answer(flow, misses.internal(RuntimeError("the WebSocket replay server is not running")))

    async def _miss(self, flow: http.HTTPFlow, resource: Resource, meta: dict[str, str], prepared: Prepared) -> None:
        vcr = self.vcr
        try:
            # The fast secret check on raw bytes cannot see a base64-encoded key; the recording holds it
            # redacted. A full scan, then, before a miss is declared.
            req = flow.request
            full = prepared
            if not prepared.full_scan:
                ce = req.headers.get("content-encoding")
                full = await asyncio.to_thread(
                    prepare, req.method, resource, req.raw_content, ce, vcr.max_body, True, req.path
                )
            store, scope = self._store(flow), self._scope(flow)
            if full.key != prepared.key and (hit := store.take(full.key)) not in (None, PENDING):
                meta["key"] = full.key
                self._serve(flow, meta, hit)
                return
            vcr.stats.misses += 1
            vcr.stats.miss_keys.append(prepared.key)
            meta["outcome"] = "miss"
            answer = await asyncio.to_thread(self._explain, store, req.method, resource, prepared)
            log.warning(answer.message)
            if scope is not None:
                scope.misses += 1
                scope.miss_keys.append(prepared.key)
                scope.messages.append(answer.message)
            flow.marked, flow.comment = ":x:", answer.message
            self._answer(flow, answer)
        except Exception as e:  # still an answer: a miss must never reach the upstream
            self._failed(flow, e)

    @staticmethod
    def _explain(store: RecordingStore, method: str, resource: Resource, prepared: Prepared) -> misses.ErrorAnswer:
        """The miss answer (reads recordings: runs in a thread). Also keeps the request for `llm-vcr show`."""
        missed.save(store.root, prepared.key, method, resource.name, prepared.body)
        partials = []
        for path in store.partial_of(prepared.key):
            try:
                partials.append((path, read_file(path, store.max_file).partial or "partial"))
            except RecordingError as e:
                partials.append((path, f"unreadable now: {e}"))
        return misses.miss(method, resource, prepared.key, store.root, store.nearest(resource, prepared.body), partials)

    @staticmethod
    def _answer(flow: http.HTTPFlow, answer: misses.ErrorAnswer) -> None:
        flow.response = http.Response.make(
            answer.status, answer.body, {"content-type": "application/json", **misses.NO_RETRY_HEADERS}
        )
