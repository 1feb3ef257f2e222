"""Tee LLM responses into recordings while they reach the client untouched and live.

Streamed responses (SSE, NDJSON) get a stream callable in `responseheaders` that forwards every read at
once and keeps a copy with its arrival time; buffered answers are taken in `response`. Parsing the
stream (the incremental parser, over the kept reads), building and writing the recording happen on
the writer thread (see `Vcr.persist`): the event loop pays one list append per read.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx, hooks, http

from llm_vcr import bodies, framings
from llm_vcr.addons.hooks import FlowHook
from llm_vcr.apis import BY_NAME, Resource
from llm_vcr.capture import StreamCapture, json_recording, kept_headers, session_recording, stream_recording
from llm_vcr.store.recording import Recording
from llm_vcr.vcr import META, NotRecorded, Vcr

log = logging.getLogger("llm_vcr")


STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq",
                "application/vnd.amazon.eventstream")  # fmt: skip


def _is_stream(response: http.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() in STREAM_TYPES


class Record:
    name = "vcr_record"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self._streams: dict[str, tuple[http.HTTPFlow, StreamCapture]] = {}
        self._sockets: dict[str, http.HTTPFlow] = {}  # WebSocket sessions being recorded
        vcr.before_close.append(self._keep_open_streams)

    def _keep_open_streams(self) -> None:
        """At shutdown: streams and sessions still open are kept as partial recordings, and counted."""
        for flow, cap in list(self._streams.values()):
            self._streams.pop(flow.id, None)
            meta = self._meta(flow)
            if meta is not None:
                self._persist_stream(flow, meta, cap, broken="the proxy shut down while the stream was open")
        for flow in list(self._sockets.values()):
            self._persist_session(flow, broken="the proxy shut down while the session was open")

    @staticmethod
    def _meta(flow: http.HTTPFlow) -> dict[str, str] | None:
        meta = flow.metadata.get(META)
        return meta if isinstance(meta, dict) else None

    # In plain replay there is nothing to tee: the flow hooks are hidden (see `hooks.FlowHook`), unless a
    # stream recorded before a switch to replay is still open.
    def _busy(self) -> bool:
        return not self.vcr.plain_replay or bool(self._streams)

    responseheaders, response, error = FlowHook(_busy), FlowHook(_busy), FlowHook(_busy)

    def _responseheaders(self, flow: http.HTTPFlow) -> None:
        meta = self._meta(flow)
        if meta is None or flow.response is None or meta.get("outcome") not in ("recording", "live"):
            return  # replayed, answered locally: nothing to tee
        resource = BY_NAME[meta["resource"]]
        # Gemini's streamGenerateContent streams a JSON array as application/json: the call says it streams.
        if not (_is_stream(flow.response) or (resource.streaming and 200 <= flow.response.status_code < 300)):
            return
        if meta.get("outcome") == "live":
            flow.response.stream = True  # pass through live; mitmproxy would buffer SSE
            return
        if meta.get("outcome") != "recording":
            return
        ce = flow.response.headers.get("content-encoding", "identity").strip().lower()
        framing = framings.of_content_type(flow.response.headers.get("content-type", ""), resource.framing)
        cap = StreamCapture(
            framing=framing,
            encoded=ce not in ("", "identity"),
            t0=flow.request.timestamp_start,
            headers_at=(flow.response.timestamp_start or flow.request.timestamp_start) - flow.request.timestamp_start,
        )
        self._streams[flow.id] = (flow, cap)

        def tap(data: bytes) -> bytes:
            if data:
                cap.feed(data)
            return data  # forwarded immediately, unchanged

        flow.response.stream = tap

    def _response(self, flow: http.HTTPFlow) -> None:
        meta = self._meta(flow)
        _, cap = self._streams.pop(flow.id, (None, None))
        if meta is None or meta.get("outcome") != "recording" or flow.response is None:
            return
        if flow.response.status_code == 101:
            return  # a WebSocket session: recorded when it ends (websocket_end)
        if cap is not None:
            # What mitmweb shows, bounded like the view's other bodies: the recording has it all.
            flow.response.raw_content, cut = cap.head(ctx.options.vcr_view_limit)
            if cut:
                meta["body_truncated"] = True
            self._persist_stream(flow, meta, cap, broken=None)
            return
        resource = BY_NAME[meta["resource"]]
        request = _request_part(flow, resource)
        status, raw = flow.response.status_code, flow.response.raw_content or b""
        headers = dict(flow.response.headers.items())
        ce, limit = flow.response.headers.get("content-encoding"), self.vcr.max_body

        def build() -> Recording:
            # Decoding (bounded) and parsing happen here, on the writer thread, never on the event loop.
            content = _decoded(raw, ce, limit, request[0])
            return json_recording(**_request(request, limit), resource=resource, status=status, content=content,
                                  headers=headers)  # fmt: skip

        self._persist(flow, meta, build)

    def _error(self, flow: http.HTTPFlow) -> None:
        # A complete stream often ends here: SDKs hang up right after data: [DONE].
        _, cap = self._streams.pop(flow.id, (None, None))
        meta = self._meta(flow)
        if cap is None or meta is None:
            return
        self._persist_stream(flow, meta, cap, broken=flow.error.msg if flow.error else "error")

    # ---- WebSocket sessions -------------------------------------------------------------

    def websocket_start(self, flow: http.HTTPFlow) -> None:
        meta = self._meta(flow)
        if meta is not None and meta.get("outcome") == "recording":
            self._sockets[flow.id] = flow

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        if self._sockets.get(flow.id) is flow:
            self._persist_session(flow, broken=None)

    def _persist_session(self, flow: http.HTTPFlow, broken: str | None) -> None:
        """The session's messages as they crossed (taken on the loop: references, no copies)."""
        self._sockets.pop(flow.id, None)
        meta, ws = self._meta(flow), flow.websocket
        if meta is None or ws is None:
            return
        resource = BY_NAME[meta["resource"]]
        t0 = flow.request.timestamp_start
        messages = [(m.from_client, m.is_text, m.content, m.timestamp - t0) for m in ws.messages if not m.dropped]
        close = (ws.close_code, ws.close_reason or "", ws.closed_by_client)
        headers_at = (flow.response.timestamp_start - t0) if flow.response and flow.response.timestamp_start else None
        subprotocol = flow.response.headers.get("sec-websocket-protocol") if flow.response else None
        url = flow.request.pretty_url.replace("http", "ws", 1)  # wss://…/v1/realtime?model=…

        def build() -> Recording:
            return session_recording(url=url, resource=resource, messages=messages, close=close, headers_at=headers_at,
                                     subprotocol=subprotocol, broken=broken)  # fmt: skip

        self._persist(flow, meta, build)

    def _persist_stream(
        self, flow: http.HTTPFlow, meta: dict[str, str], cap: StreamCapture, broken: str | None
    ) -> None:
        resource = BY_NAME[meta["resource"]]
        request = _request_part(flow, resource)
        ce = flow.response.headers.get("content-encoding", "identity") if flow.response else "identity"
        limit = self.vcr.max_body
        kept = kept_headers(dict(flow.response.headers.items())) if flow.response else {}

        def build() -> Recording:
            note, decoded = broken, None
            if cap.encoded:
                try:
                    decoded = bodies.decode(cap.body, ce, limit)
                except bodies.BodyTooLarge as e:
                    raise NotRecorded(request[0], f"the {ce} answer {e}") from e
                except ValueError as e:
                    note = f"cannot decode its {ce} body: {e}"
            cap.finish(decoded)
            rec = stream_recording(**_request(request, limit), resource=resource, capture=cap, broken=note)
            rec.response_headers.update(kept)
            return rec

        self._persist(flow, meta, build)

    def _persist(self, flow: http.HTTPFlow, meta: dict[str, str], build) -> None:
        scope = self.vcr.scopes.get(meta.get("scope", ""))
        self.vcr.persist(build, lambda path, rec: self._recorded(flow, meta, path, rec), key=meta.get("key"),
                         scope=scope)  # fmt: skip

    def _recorded(self, flow: http.HTTPFlow, meta: dict[str, str], path, rec: Recording) -> None:
        scope = self.vcr.scopes.get(meta.get("scope", ""))
        (scope.store if scope is not None else self.vcr.store).add(path, rec)
        self.vcr.new.append(path)
        if scope is not None:
            scope.new.append(path)
            scope.recorded += rec.partial is None
        meta["recording"] = str(path)
        if rec.partial:
            self.vcr.stats.partial += 1
            meta["outcome"] = "partial"
            flow.marked = ":warning:"
            flow.comment = f"llm-vcr: kept {path.name} as partial (never replayed): {rec.partial}"
            log.warning(f"llm-vcr: kept {path} as partial, it will not replay: {rec.partial}")
        else:
            self.vcr.stats.recorded += 1
            meta["outcome"] = "recorded"
            flow.marked, flow.comment = ":floppy_disk:", f"llm-vcr: recorded to {path.name}"
            log.info(f"llm-vcr: recorded {rec.method} {rec.resource.name if rec.resource else ''} -> {path}")
        try:  # the flow may have finished long ago: tell mitmweb and the console it changed
            ctx.master.addons.trigger(hooks.UpdateHook([flow]))
        except Exception:  # no master (shutdown, unit tests without one)
            pass


def _request_part(flow: http.HTTPFlow, resource: Resource) -> tuple[str, str, str, bytes | None, str | None]:
    """What a recording needs of the request, taken on the event loop without decoding anything."""
    req = flow.request
    call = f"{req.method} {resource.name}"
    return call, req.method, req.pretty_url, req.raw_content, req.headers.get("content-encoding")


def _decoded(raw: bytes, content_encoding: str | None, limit: int, call: str) -> bytes:
    try:
        return bodies.decode(raw, content_encoding, limit)
    except bodies.BodyTooLarge as e:
        raise NotRecorded(call, f"the answer {e}") from e
    except ValueError:
        return raw  # kept as it came; json_recording marks a body it cannot parse


def _request(part: tuple[str, str, str, bytes | None, str | None], limit: int) -> dict[str, object]:
    """The request fields of a recording, decoded and parsed on the writer thread."""
    call, method, url, raw, ce = part
    try:
        body = bodies.request_json(bodies.decode(raw or b"", ce, limit), exact=True)
    except ValueError as e:
        raise NotRecorded(call, f"the request {e}") from e
    return {"method": method, "url": url, "body": body}
