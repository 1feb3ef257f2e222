"""Tee LLM responses into recordings while they reach the client untouched and live.

Streamed responses (SSE, NDJSON) get a stream callable in `responseheaders` that forwards every read at
once and keeps a copy with its arrival time; buffered answers are taken in `response`. Parsing the
stream (the incremental parser, over the kept reads), building and writing the recording happen on
the writer thread (see `Vcr.persist`): the event loop pays one list append per read.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx, hooks, http
from mitmproxy.net import encoding

from llm_vcr.apis import BY_NAME
from llm_vcr.capture import StreamCapture, json_recording, request_body, stream_recording
from llm_vcr.store.recording import Recording
from llm_vcr.vcr import META, Vcr

log = logging.getLogger("llm_vcr")


STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq")


def _is_stream(response: http.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() in STREAM_TYPES


class Record:
    name = "vcr_record"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self._streams: dict[str, StreamCapture] = {}

    @staticmethod
    def _meta(flow: http.HTTPFlow) -> dict[str, str] | None:
        meta = flow.metadata.get(META)
        return meta if isinstance(meta, dict) else None

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        meta = self._meta(flow)
        if meta is None or flow.response is None or not _is_stream(flow.response):
            return
        if meta.get("outcome") == "live":
            flow.response.stream = True  # pass through live; mitmproxy would buffer SSE
            return
        if meta.get("outcome") != "recording":
            return
        ce = flow.response.headers.get("content-encoding", "identity").strip().lower()
        framing = BY_NAME[meta["resource"]].framing
        cap = self._streams[flow.id] = StreamCapture(
            framing=framing,
            encoded=ce not in ("", "identity"),
            t0=flow.request.timestamp_start,
            headers_at=(flow.response.timestamp_start or flow.request.timestamp_start) - flow.request.timestamp_start,
        )

        def tap(data: bytes) -> bytes:
            if data:
                cap.feed(data)
            return data  # forwarded immediately, unchanged

        flow.response.stream = tap

    def response(self, flow: http.HTTPFlow) -> None:
        meta = self._meta(flow)
        cap = self._streams.pop(flow.id, None)
        if meta is None or meta.get("outcome") != "recording" or flow.response is None:
            return
        if cap is not None:
            flow.response.raw_content = cap.body  # so mitmweb can show the streamed body
            self._persist_stream(flow, meta, cap, broken=None)
            return
        resource = BY_NAME[meta["resource"]]
        method, url, req = flow.request.method, flow.request.pretty_url, flow.request.get_content(strict=False)
        status, content = flow.response.status_code, flow.response.get_content(strict=False) or b""
        headers = dict(flow.response.headers.items())
        self._persist(
            flow,
            meta,
            lambda: json_recording(
                method=method,
                url=url,
                body=request_body(req),
                resource=resource,
                status=status,
                content=content,
                headers=headers,
            ),
        )

    def error(self, flow: http.HTTPFlow) -> None:
        # A complete stream often ends here: SDKs hang up right after data: [DONE].
        cap = self._streams.pop(flow.id, None)
        meta = self._meta(flow)
        if cap is None or meta is None:
            return
        self._persist_stream(flow, meta, cap, broken=flow.error.msg if flow.error else "error")

    def _persist_stream(
        self, flow: http.HTTPFlow, meta: dict[str, str], cap: StreamCapture, broken: str | None
    ) -> None:
        resource = BY_NAME[meta["resource"]]
        method, url, req = flow.request.method, flow.request.pretty_url, flow.request.get_content(strict=False)
        ce = flow.response.headers.get("content-encoding", "identity") if flow.response else "identity"

        def build() -> Recording:
            note, decoded = broken, None
            if cap.encoded:
                try:
                    decoded = encoding.decode(cap.body, ce)
                except ValueError as e:
                    note = f"cannot decode its {ce} body: {e}"
            cap.finish(decoded if isinstance(decoded, bytes) else None)
            return stream_recording(
                method=method, url=url, body=request_body(req), resource=resource, capture=cap, broken=note
            )

        self._persist(flow, meta, build)

    def _persist(self, flow: http.HTTPFlow, meta: dict[str, str], build) -> None:
        self.vcr.persist(build, lambda path, rec: self._recorded(flow, meta, path, rec))

    def _recorded(self, flow: http.HTTPFlow, meta: dict[str, str], path, rec: Recording) -> None:
        self.vcr.store.add(path, rec)
        self.vcr.new.append(path)
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
