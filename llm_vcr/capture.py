"""Capturing a live response into a Recording, without mitmproxy.

`StreamCapture.feed` runs on the proxy's event loop for every network read, so it only
splits SSE events (cheap, incremental); JSON decoding and envelope building happen in
`build_recording`, which runs in a worker thread. Completeness is decided by the protocol
(`data: [DONE]` seen), not by which hook fired: SDKs hang up right after `[DONE]`, so a
complete stream often ends in mitmproxy's `error` hook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import envelopes
from .recording import Recording
from .resources import Resource
from .sse import SSEEvent, SSEParser

JSON = Any

# Response headers worth keeping for non-2xx answers: what clients' retry logic reads.
KEPT_ERROR_HEADERS = ("content-type", "retry-after", "retry-after-ms", "x-should-retry")


@dataclass
class StreamCapture:
    """Per-flow state of a streamed response being teed to the client."""

    encoded: bool = False  # content-encoded reads are kept raw and parsed at the end
    parser: SSEParser = field(default_factory=SSEParser)
    events: list[SSEEvent] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    done: bool = False

    def feed(self, data: bytes) -> None:
        self.raw.append(data)
        if self.encoded or self.done:
            return
        for ev in self.parser.feed(data):
            self._add(ev)

    def finish(self, decoded: bytes | None = None) -> None:
        """End of stream. `decoded` is the whole body when reads were content-encoded."""
        if decoded is not None:
            self.parser = SSEParser()
            for ev in self.parser.feed(decoded):
                self._add(ev)
        if not self.done:
            for ev in self.parser.finish():
                self._add(ev)

    def _add(self, ev: SSEEvent) -> None:
        if self.done:
            return  # anything after [DONE] is not part of the answer
        if ev.is_done:
            self.done = True
            return
        self.events.append(ev)

    @property
    def body(self) -> bytes:
        return b"".join(self.raw)


def loads(data: bytes | str) -> JSON:
    """JSON as sent: orjson for speed, the stdlib for what orjson refuses (huge integers)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def request_body(content: bytes | None) -> JSON:
    """The parsed request JSON. Raises ValueError with a reason for anything unusable."""
    if not content:
        return None
    try:
        return loads(content)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"the request body is not valid JSON ({e})") from e


def stream_recording(
    *, method: str, url: str, body: JSON, resource: Resource, capture: StreamCapture, broken: str | None
) -> Recording:
    """A streamed answer as typed chunk envelopes; incomplete or malformed ones are marked partial."""
    chunks: list[JSON] = []
    partial = None
    if not capture.done:  # the cut explains a trailing half event better than "not JSON" would
        partial = f"the stream ended before data: [DONE] ({broken or 'upstream closed it'})"
    for i, ev in enumerate(capture.events):
        try:
            chunks.append(loads(ev.data))
        except ValueError:
            partial = partial or f"event {i} is not JSON: {ev.data[:80]!r}"
            chunks.append(ev.data)
    body_items = [envelopes.envelope(envelopes.type_for(resource, True, c), c) for c in chunks]
    return Recording.new(
        method=method,
        url=url,
        body=body,
        resource=resource,
        is_streaming=True,
        response_body=body_items,
        partial=partial,
    )


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
        data = loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if 200 <= status < 300:
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
