"""One recording: a request/response pair in the seed's JSON format, and its replay bytes.

Reading is tolerant of what other recorders wrote (llama-stack / OGX, both layouts):
SDK-kwargs bodies, doubled `/v1` URLs, legacy endpoint labels, `POST /models`, recorded
exceptions, passthrough files with `payload`. Writing follows the seed exactly, with a
few extra keys (`status`, `partial`) that seed-only readers ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from llm_vcr import apis, bodies, redaction
from llm_vcr.apis import CHAT, COMPLETIONS, LISTINGS, MODELS, Framing, Resource, envelopes, gemini_sdk, mcp
from llm_vcr.apis.guard import normalize_path
from llm_vcr.framings import CONTENT_TYPES, eventstream, jsonarray, ndjson, sse, websocket
from llm_vcr.matching.keys import request_key, wire_body

JSON = Any

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
DONE_EVENT = sse.frame_data(sse.DONE.encode())

REDACTED = "REDACTED"


class RecordingError(ValueError):
    """A recording file that cannot be used, with the reason in words."""


@dataclass(slots=True)
class ReplayResponse:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[bytes] | None = None  # a stream's pieces (body = their concatenation), for paced replay
    timing: dict[str, JSON] | None = None  # the recording's offsets, for paced replay
    prepared: object = None  # the proxy's ready-made response object, built on first use (glue's cache)


@dataclass
class Recording:
    method: str
    url: str
    body: JSON  # the request JSON as sent on the wire (None for bodiless requests)
    resource: Resource | None  # None: a recording of an API this version does not serve
    endpoint: str
    model: str | None
    is_streaming: bool
    response_body: JSON  # envelope, list of envelopes, or another recorder's raw form
    status: int = 200
    partial: str | None = None  # why the response is incomplete; never replayed
    error_body: JSON = None  # recorded exceptions (llama-stack): served as {"error": …}
    response_headers: dict[str, str] = field(default_factory=dict)  # kept for non-2xx answers only
    timing: dict[str, JSON] | None = None  # {"headers_ms", "chunks_ms": [...], "end_ms"} from the request start
    unterminated_tail: bool = False  # the stream ended inside its last event (no blank line / newline)
    socket: dict[str, JSON] | None = None  # a WebSocket session: {"subprotocol", "close": {"code", "reason", "by"}}
    raw: dict[str, JSON] | None = None  # the file as read, kept for round-trips

    @cached_property
    def key(self) -> str | None:
        if self.resource is None:
            return None
        return request_key(self.method, self.resource, self.body, path=urlsplit(self.url).path)

    @cached_property
    def tokens(self) -> int:
        """Tokens this answer cost upstream (from its usage fields; 0 when it reports none)."""
        from llm_vcr.assemble import assemble  # the assembler is only needed for reports

        if self.resource is None or self.partial or not 200 <= self.status < 300:
            return 0
        return assemble(self.resource, self.chunks, self.is_streaming).total_tokens

    # ---- reading -------------------------------------------------------------------

    @classmethod
    def from_json(cls, doc: JSON) -> Recording:
        if not isinstance(doc, dict):
            raise RecordingError("the top level is not a JSON object")
        req, resp = doc.get("request"), doc.get("response")
        if not isinstance(req, dict) or not isinstance(resp, dict):
            raise RecordingError('missing the "request" or "response" object')
        url = req.get("url")
        if not isinstance(url, str):
            raise RecordingError('"request.url" is missing or not a string')
        method = str(req.get("method") or "POST").upper()
        body = req["payload"] if "payload" in req else wire_body(req.get("body"))
        response_body = resp.get("body")
        model = req.get("model")
        if gemini_sdk.is_sdk_recording(url):  # OGX's google-genai recordings: SDK objects, as the wire has them
            url, body, response_body, model = gemini_sdk.convert(url, body, response_body)
        endpoint = req.get("endpoint") if isinstance(req.get("endpoint"), str) else urlsplit(url).path
        socket = resp.get("websocket")
        if socket is not None and not isinstance(socket, dict):
            raise RecordingError('"response.websocket" is not a JSON object')
        if socket is not None:  # a WebSocket session: the path says which API
            resource = apis.classify_websocket(urlsplit(url).path) or apis.classify_websocket(endpoint)
        else:
            resource = apis.classify_endpoint(urlsplit(url).path) or apis.classify_endpoint(endpoint)
        if resource is None and isinstance(body, dict) and body.get("jsonrpc") == "2.0" and "method" in body:
            resource = mcp.CALL
        if resource is COMPLETIONS and isinstance(body, dict) and "messages" in body:
            resource = CHAT  # legacy label: a chat call filed under /completions
        if resource in LISTINGS:
            method, body = "GET", None
        elif resource is not None and not isinstance(body, dict):
            raise RecordingError(f'"request.body" of a {resource.name} recording is not a JSON object')
        if (
            resource is not None
            and isinstance(response_body, list)
            and response_body
            and all(isinstance(line, str) for line in response_body)
        ):
            response_body = _from_sse_lines(resource, response_body)  # llama-stack's raw passthrough lines
        if model is None and isinstance(body, dict):
            model = body.get("model")
        rec = cls(
            method=method,
            url=url,
            body=body,
            resource=resource,
            endpoint=endpoint,
            model=model if isinstance(model, str) else None,
            is_streaming=bool(resp.get("is_streaming")),
            response_body=response_body,
            status=_status(resp.get("status"), 200, '"response.status"'),
            partial=resp.get("partial") if isinstance(resp.get("partial"), str) else None,
            raw=doc,
            socket=socket,
        )
        rec.unterminated_tail = resp.get("unterminated_tail") is True
        timing = resp.get("timing")
        if isinstance(timing, dict) and _valid_timing(timing, response_body):
            rec.timing = timing
        headers = resp.get("headers")
        if isinstance(headers, dict):
            rec.response_headers = {str(k): str(v) for k, v in headers.items()}
        if resp.get("is_exception"):
            data = resp.get("exception_data") if isinstance(resp.get("exception_data"), dict) else {}
            rec.status = _status(data.get("status_code"), 500, '"exception_data.status_code"')
            rec.error_body = data.get("body") or {"message": resp.get("exception_message") or "recorded error"}
        elif resource is not None and rec.partial is None and 200 <= rec.status < 300:
            rec._check_body()
        return rec

    def _check_body(self) -> None:
        b = self.response_body
        if self.socket is not None:
            try:
                websocket.messages(b)
            except ValueError as e:
                raise RecordingError(f'"response.body" of a WebSocket session: {e}') from e
        elif self.resource is MODELS:
            if not isinstance(b, list):
                raise RecordingError('"response.body" of a models recording is not a list')
        elif self.resource in LISTINGS:
            if not isinstance(envelopes.unwrap(b), dict):
                raise RecordingError('"response.body" of a listing is not a JSON object envelope')
        elif self.is_streaming:
            if not isinstance(b, list):
                raise RecordingError('"response.body" of a streaming recording is not a list of chunks')
            for i, item in enumerate(b):
                if not isinstance(envelopes.unwrap(item), dict):
                    raise RecordingError(f"chunk {i} is not a JSON object envelope")
        elif not isinstance(envelopes.unwrap(b), dict):
            raise RecordingError('"response.body" is not a JSON object envelope')

    # ---- writing -------------------------------------------------------------------

    @classmethod
    def new(
        cls,
        *,
        method: str,
        url: str,
        body: JSON,
        resource: Resource,
        is_streaming: bool,
        response_body: JSON,
        status: int = 200,
        partial: str | None = None,
        timing: dict[str, JSON] | None = None,
    ) -> Recording:
        model = body.get("model") if isinstance(body, dict) else None
        if model is None and resource.pattern is not None:  # Gemini, Bedrock: the model is in the path
            model = resource.path_params(normalize_path(urlsplit(url).path)).get("model")
        return cls(
            method=method.upper(),
            url=redact_url(url),
            body=body,
            resource=resource,
            endpoint=resource.endpoint,
            model=model if isinstance(model, str) else None,
            is_streaming=is_streaming,
            response_body=response_body,
            status=status,
            partial=partial,
            timing=timing,
        )

    def to_json(self) -> dict[str, JSON]:
        response: dict[str, JSON] = {"body": self.response_body, "is_streaming": self.is_streaming}
        if self.status != 200:
            response["status"] = self.status
        if self.response_headers:
            response["headers"] = self.response_headers
        if self.timing is not None:
            response["timing"] = self.timing
        if self.unterminated_tail:
            response["unterminated_tail"] = True
        if self.partial is not None:
            response["partial"] = self.partial
        if self.socket is not None:
            response["websocket"] = self.socket
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": {},  # credentials never reach disk: no request header is stored
                "body": self.body if self.body is not None else {},
                "endpoint": self.endpoint,
                "model": self.model,
            },
            "response": response,
        }

    def dumps(self) -> bytes:
        # Pretty, unsorted (the server's field order is data) and UTF-8: diffs read well.
        return bodies.dumps(self.to_json(), pretty=True)

    def redact_secrets(self) -> list[str]:
        """Replace key-shaped strings in every string that reaches disk (URL, model, endpoint, bodies,
        chunks, kept headers, reasons); the kinds found (empty: none).

        One document, so a key split across consecutive chunks or messages is found too; the request
        body's strings are grouped exactly as when a live request is redacted alone, so both match.
        """
        found: list[str] = []
        fields = ("url", "model", "endpoint", "body", "response_body", "response_headers", "error_body", "partial",
                  "socket")  # fmt: skip
        clean = redaction.redact({name: getattr(self, name) for name in fields}, found)
        if found:
            for name in fields:
                setattr(self, name, clean[name])
            self.__dict__.pop("key", None)  # cached_property: the body changed
        return found

    # ---- replay --------------------------------------------------------------------

    @property
    def chunks(self) -> list[JSON]:
        """The response's JSON objects as sent: stream chunks, or the one body (`[body]`)."""
        items = self.response_body if isinstance(self.response_body, list) else [self.response_body]
        return [envelopes.unwrap(i) for i in items]

    @cached_property
    def replay(self) -> ReplayResponse:
        """The wire response, serialised once per recording (replay is a hot path)."""
        if self.error_body is not None:
            body = bodies.dumps({"error": self.error_body})
            return ReplayResponse(self.status, JSON_CONTENT_TYPE, body)
        if not 200 <= self.status < 300:
            # An upstream error answer, replayed as it came so retry logic sees the same thing.
            data = envelopes.unwrap(self.response_body)
            body = data.encode() if isinstance(data, str) else bodies.dumps(data)
            headers = {k.lower(): v for k, v in self.response_headers.items()}
            ctype = headers.pop("content-type", JSON_CONTENT_TYPE)
            return ReplayResponse(self.status, ctype, body, headers)
        if self.socket is not None:  # served over the socket by the proxy, never as an HTTP body
            body = b'{"error":{"message":"llm-vcr: this is a WebSocket session: connect with Upgrade: websocket"}}'
            return ReplayResponse(426, JSON_CONTENT_TYPE, body, {"upgrade": "websocket"})
        if self.resource in LISTINGS:
            assert self.resource is not None
            return listing_union(self.resource, [self])
        if self.is_streaming and self.resource is not None:
            return self._stream(self.resource.framing)
        kept = {k.lower(): v for k, v in self.response_headers.items() if k.lower() != "content-type"}
        return ReplayResponse(self.status, JSON_CONTENT_TYPE, bodies.dumps(envelopes.unwrap(self.response_body)),
                              kept)  # fmt: skip

    def replay_as(self, framing: Framing) -> ReplayResponse:
        """The stream framed another way than the API's default (Gemini's `alt=sse`), built once."""
        if self.resource is None or not self.is_streaming or not 200 <= self.status < 300 or framing is None:
            return self.replay
        if framing is self.resource.framing:
            return self.replay
        cached = self.__dict__.setdefault("_framed", {})
        if framing not in cached:
            cached[framing] = self._stream(framing)
        return cached[framing]

    def _stream(self, framing: Framing) -> ReplayResponse:
        assert self.resource is not None
        frames = frame_stream(self.resource, self.response_body, framing)
        if self.unterminated_tail and frames:
            frames[-1] = frames[-1][:-1]  # as recorded: the last event's terminator never came
        kept = {k.lower(): v for k, v in self.response_headers.items() if k.lower() != "content-type"}
        return ReplayResponse(self.status, CONTENT_TYPES[framing], b"".join(frames), kept, frames=frames,
                              timing=self.timing)  # fmt: skip


def _status(value: JSON, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise RecordingError(f"{name} is not an HTTP status: {str(value)[:40]!r}")
    status = int(value)
    if not 100 <= status <= 599:
        raise RecordingError(f"{name} is not an HTTP status: {status}")
    return status


def _valid_timing(timing: dict[str, JSON], body: JSON) -> bool:
    """Hand-edited or mismatched timing is ignored (replay is then unpaced), never fatal."""
    chunks = timing.get("chunks_ms")
    numbers = [timing.get("headers_ms"), timing.get("end_ms"), *(chunks if isinstance(chunks, list) else [None])]
    return (
        isinstance(chunks, list) and isinstance(body, list) and len(chunks) == len(body)
        and all(isinstance(n, int | float) and n >= 0 for n in numbers)
    )  # fmt: skip


def frame_stream(resource: Resource, items: list[JSON], framing: Framing | None = None) -> list[bytes]:
    """Stream items as the API frames them on the wire: one piece per item (then [DONE] for OpenAI)."""
    framing = framing or resource.framing
    if framing is Framing.NDJSON:
        return [ndjson.frame(bodies.dumps(envelopes.unwrap(i))) for i in items]
    if framing is Framing.JSON_ARRAY:
        return jsonarray.frame([bodies.dumps(envelopes.unwrap(i)) for i in items])
    if framing is Framing.EVENT_STREAM:
        return [eventstream.frame(bodies.dumps(envelopes.unwrap(i)), envelopes.event_name(i), envelopes.message_kind(i))
                for i in items]  # fmt: skip
    if framing is Framing.SSE_EVENTS:
        out = []
        for item in items:
            name = envelopes.event_name(item)
            data = bodies.dumps(envelopes.unwrap(item))
            out.append(b"event: " + name.encode() + b"\n" + sse.frame_data(data) if name else sse.frame_data(data))
        return out
    frames = [sse.frame_data(bodies.dumps(envelopes.unwrap(i))) for i in items]
    return [*frames, DONE_EVENT] if framing is Framing.SSE_DATA else frames


def _from_sse_lines(resource: Resource, lines: list[str]) -> list[JSON]:
    """Envelopes from raw SSE text lines (how llama-stack stores HTTP passthrough streams)."""
    items = []
    for ev in sse.parse("\n".join(lines).encode() + b"\n\n"):
        try:
            data = orjson.loads(ev.data)
        except orjson.JSONDecodeError:
            data = ev.data
        items.append(envelopes.envelope(envelopes.type_for(resource, True, data, ev.event), data, ev.event))
    return items


def redact_url(url: str) -> str:
    """The URL with credential-looking query values replaced: they must not reach disk."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    clean = [(k, REDACTED if redaction.is_secret_param(k) else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(clean, safe="/:")))


def listing_union(resource: Resource, recordings: list[Recording]) -> ReplayResponse:
    """Every recorded list of a listing endpoint as one answer, each entry once (first seen wins)."""
    seen: set[str] = set()
    items: list[JSON] = []
    for rec in recordings:
        for m in envelopes.listing_items(resource, rec.response_body):
            ident = next((m.get(k) for k in ("id", "model", "name") if isinstance(m, dict) and m.get(k)), None)
            if isinstance(ident, str):
                if ident in seen:
                    continue
                seen.add(ident)
            items.append(m)
    return ReplayResponse(200, JSON_CONTENT_TYPE, bodies.dumps(envelopes.listing_payload(resource, items)))
