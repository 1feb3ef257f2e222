"""Capturing a live response into a Recording, without mitmproxy.

`StreamCapture.feed` runs on the proxy's event loop for every network read, so it only
splits events (SSE or NDJSON; cheap, incremental); JSON decoding and envelope building
happen in `stream_recording`, on the writer thread. Completeness is decided by the protocol
(`data: [DONE]`, a terminal event such as `message_stop` or `response.completed`, a last
NDJSON object with `"done": true`), not by which hook fired: SDKs hang up right after the
end marker, so a complete stream often ends in mitmproxy's `error` hook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from llm_vcr import framings
from llm_vcr.apis import Framing, Resource, envelopes
from llm_vcr.bodies import loads, request_json
from llm_vcr.framings import websocket
from llm_vcr.framings.sse import SSEEvent
from llm_vcr.store.recording import Recording

JSON = Any

# Response headers worth keeping for non-2xx answers: what clients' retry logic reads.
KEPT_ERROR_HEADERS = ("content-type", "retry-after", "retry-after-ms", "x-should-retry")
# Response headers a client needs back in any answer: an MCP server's session id.
KEPT_HEADERS = ("mcp-session-id",)


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}


@dataclass
class StreamCapture:
    """Per-flow state of a streamed response being teed to the client.

    `feed` runs on the event loop for every network read and only keeps the read and its
    arrival time; `finish` (on the writer thread) runs the incremental parser over the reads
    in order, so each event gets the arrival time of the read that completed it.
    """

    framing: Framing = Framing.SSE_DATA
    encoded: bool = False  # content-encoded reads are decoded whole, then parsed (no per-event times)
    events: list[SSEEvent] = field(default_factory=list)
    reads: list[tuple[float, bytes]] = field(default_factory=list)  # (offset, bytes) of each network read
    done: bool = False  # data: [DONE] seen (SSE_DATA framing)
    t0: float = 0.0  # when the request started (epoch seconds): offsets count from there
    headers_at: float | None = None  # offset of the response headers
    offsets: list[float] = field(default_factory=list)  # offset of each event, when reads were plain
    end_at: float | None = None  # offset of the end marker or the end of the stream
    array_closed: bool = False  # JSON_ARRAY: the closing `]` was seen
    errors: list[str] = field(default_factory=list)  # EVENT_STREAM: bad CRCs, truncated messages

    def feed(self, data: bytes) -> None:
        self.reads.append((time.time() - self.t0, data))  # all the event loop pays per read

    def finish(self, decoded: bytes | None = None, ended_at: float | None = None) -> None:
        """Parse what was read. `decoded`: the whole body when reads were content-encoded."""
        end = ended_at if ended_at is not None else (self.reads[-1][0] if self.reads else 0.0)
        parser = framings.parser(self.framing)
        if decoded is not None:
            for ev in parser.feed(decoded):
                self._add(ev, None)  # arrival times of encoded events are unknown
        elif not self.encoded:
            for at, data in self.reads:
                for ev in parser.feed(data):
                    self._add(ev, at)
        if not self.done:
            for ev in parser.finish():
                self._add(ev, end)
        if self.end_at is None:
            self.end_at = end
        self.array_closed = bool(getattr(parser, "complete", False))
        self.errors = list(getattr(parser, "errors", []))

    def _add(self, ev: SSEEvent, at: float | None) -> None:
        if self.done:
            return  # anything after [DONE] is not part of the answer
        if ev.is_done and self.framing is Framing.SSE_DATA:
            self.done = True
            self.end_at = at
            return
        self.events.append(ev)
        if at is not None:
            self.offsets.append(at)

    @property
    def timing(self) -> dict[str, object] | None:
        """Offsets in ms from the request's start, if every event's arrival is known."""
        if self.headers_at is None or len(self.offsets) != len(self.events):
            return None
        ms = [round(o * 1000, 1) for o in self.offsets]
        end_at = self.end_at if self.end_at is not None else (self.offsets[-1] if self.offsets else 0.0)
        end = round(end_at * 1000, 1)
        return {"headers_ms": round(self.headers_at * 1000, 1), "chunks_ms": ms, "end_ms": end}

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.reads)

    def head(self, limit: int) -> tuple[bytes, bool]:
        """The first `limit` bytes of the body, and whether there was more: a bounded join, fit for the
        event loop (joining a 100 MB stream there stalls every other flow for about 60 ms)."""
        parts, size = [], 0
        for _, data in self.reads:
            if size + len(data) > limit:
                parts.append(data[: limit - size])
                return b"".join(parts), True
            parts.append(data)
            size += len(data)
        return b"".join(parts), False


def stream_recording(
    *, method: str, url: str, body: JSON, resource: Resource, capture: StreamCapture, broken: str | None
) -> Recording:
    """A streamed answer as typed envelopes; incomplete or malformed ones are marked partial."""
    chunks: list[JSON] = []
    bad = None
    for i, ev in enumerate(capture.events):
        try:
            chunks.append(loads(ev.data, exact=True))
        except ValueError:
            bad = bad or f"event {i} is not JSON: {ev.data[:80]!r}"
            chunks.append(ev.data)
    names = [ev.event for ev in capture.events]
    if capture.errors:
        partial = f"the event stream is invalid: {capture.errors[0]} ({broken or 'upstream closed it'})"
    elif not _complete(resource, capture, chunks, names, broken):
        # The cut explains a trailing half event better than "not JSON" would.
        partial = f"the stream ended before {resource.end_marker} ({broken or 'upstream closed it'})"
    else:
        partial = bad
    kinds = [ev.id if capture.framing is Framing.EVENT_STREAM else None for ev in capture.events]
    items = [
        envelopes.envelope(envelopes.type_for(resource, True, c, n), c, n, k)
        for c, n, k in zip(chunks, names, kinds, strict=True)
    ]
    rec = Recording.new(
        method=method, url=url, body=body, resource=resource, is_streaming=True, response_body=items,
        partial=partial, timing=capture.timing,
    )  # fmt: skip
    sse = capture.framing in (Framing.SSE_DATA, Framing.SSE_EVENTS, Framing.SSE_PLAIN, Framing.NDJSON)
    rec.unterminated_tail = (
        sse and bool(capture.events) and not capture.events[-1].terminated and not capture.done and partial is None
    )
    return rec


def _complete(
    resource: Resource, capture: StreamCapture, chunks: list[JSON], names: list[str | None], broken: str | None
) -> bool:
    """Completeness is a protocol fact: an end marker, or, for framings without one, a body that ended."""
    framing = capture.framing
    if resource.complete_when is not None:
        return resource.complete_when(chunks)
    if framing is Framing.SSE_DATA:
        return capture.done
    if framing is Framing.NDJSON:
        return bool(chunks) and isinstance(chunks[-1], dict) and chunks[-1].get("done") is True
    if framing is Framing.JSON_ARRAY:
        return capture.array_closed
    kinds = [n or (c.get("type") if isinstance(c, dict) else None) for c, n in zip(chunks, names, strict=True)]
    if resource.terminal:
        return any(k in resource.terminal for k in kinds)
    return framing in framings.ENDS_WITH_BODY and broken is None and bool(chunks)


def json_recording(
    *,
    method: str,
    url: str,
    body: JSON,
    resource: Resource,
    status: int,
    content: bytes,
    headers: dict[str, str],
) -> Recording:
    """A buffered answer: one envelope (a list for /models); error answers keep status and headers."""
    try:
        data = loads(content, exact=True) if content else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if 200 <= status < 300:
        if data is None and resource.api == "mcp" and not content:
            raise ValueError("an MCP answer without a body (202 Accepted) has nothing to record")
        if data is None:
            rec = Recording.new(
                method=method,
                url=url,
                body=body,
                resource=resource,
                is_streaming=False,
                response_body=envelopes.envelope(envelopes.GENERIC, content.decode("utf-8", "replace")),
                partial="the response body is not JSON",
            )
        else:
            rec = Recording.new(
                method=method,
                url=url,
                body=body,
                resource=resource,
                is_streaming=False,
                response_body=envelopes.json_body(resource, data),
            )
        rec.response_headers = kept_headers(headers)
        return rec
    kept = {k: v for k, v in headers.items() if k.lower() in KEPT_ERROR_HEADERS or k.lower().startswith("x-ratelimit-")}
    payload = data if data is not None else content.decode("utf-8", "replace")
    rec = Recording.new(
        method=method,
        url=url,
        body=body,
        resource=resource,
        is_streaming=False,
        response_body=envelopes.envelope(envelopes.GENERIC, payload),
        status=status,
    )
    rec.response_headers = kept
    return rec


def recording_from_exchange(
    *,
    method: str,
    url: str,
    request: bytes | None,
    resource: Resource,
    status: int,
    headers: dict[str, str],
    body: bytes,
    stream_content_types: tuple[str, ...] = ("text/event-stream", "application/x-ndjson"),
) -> Recording:
    """A recording from a finished exchange whose bodies are whole (a saved flow, a HAR entry)."""
    req = request_json(request, exact=True)
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "").split(";")[0].strip().lower()
    if (ctype in stream_content_types or resource.streaming) and 200 <= status < 300:
        cap = StreamCapture(framing=framings.of_content_type(ctype, resource.framing))
        cap.feed(body)
        cap.finish()
        rec = stream_recording(method=method, url=url, body=req, resource=resource, capture=cap, broken=None)
        rec.timing = None  # arrival times of a saved body are not the upstream's
        return rec
    return json_recording(method=method, url=url, body=req, resource=resource, status=status, content=body,
                          headers=headers)  # fmt: skip


def session_recording(
    *,
    url: str,
    resource: Resource,
    messages: list[tuple[bool, bool, bytes, float]],
    close: tuple[int | None, str, bool | None],
    headers_at: float | None,
    subprotocol: str | None = None,
    broken: str | None = None,
) -> Recording:
    """A WebSocket session: both sides' messages in order, each typed; `messages` holds (from client,
    text, content, offset from the handshake request). Complete once a close frame ended it."""
    items = []
    for from_client, text, content, _ in messages:
        msg = websocket.Message(from_client, text, content)
        data = websocket.parse(msg)
        items.append(websocket.envelope(_session_type(resource, msg, data), msg, data))
    code, reason, by_client = close
    partial = None
    if broken is not None:
        partial = f"the session ended without a close frame ({broken})"
    elif code is None or code == websocket.ABNORMAL:
        partial = "the connection dropped without a close frame"
    rec = Recording.new(
        method="GET", url=url, body=websocket.query_body(url), resource=resource, is_streaming=True,
        response_body=items, partial=partial,
    )  # fmt: skip
    rec.socket = {"subprotocol": subprotocol} if subprotocol else {}
    if code is not None:
        rec.socket["close"] = {
            "code": code,
            "reason": reason,
            "by": websocket.CLIENT if by_client else websocket.SERVER,
        }
    if headers_at is not None and all(at >= 0 for *_, at in messages):
        rec.timing = {
            "headers_ms": round(headers_at * 1000, 1),
            "chunks_ms": [round(at * 1000, 1) for *_, at in messages],
            "end_ms": round(max([headers_at, *(at for *_, at in messages)]) * 1000, 1),
        }
    return rec


def _session_type(resource: Resource, msg: websocket.Message, data: JSON) -> str:
    fallback = websocket.type_fallback(msg, data)
    if fallback is not None:
        return fallback
    kind = data.get("type")
    if isinstance(kind, str) and kind in resource.event_types:
        return resource.event_types[kind]
    return (resource.client_type if msg.from_client else resource.chunk_type) or envelopes.GENERIC
