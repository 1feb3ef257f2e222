"""A live request made ready for matching: decoded (bounded), parsed (strict), redacted as on disk,
and keyed. Pure, so the proxy can run it on the event loop for small bodies and in a thread for
large ones, and the CLI can run it too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_vcr import bodies, redaction
from llm_vcr.apis import Resource
from llm_vcr.framings import websocket
from llm_vcr.matching.keys import request_key

JSON = Any

OFF_LOOP_BYTES = 256 * 1024  # bodies this large (or content-encoded) are prepared in a thread


@dataclass(frozen=True, slots=True)
class Prepared:
    body: JSON  # the JSON as recordings store it (secrets replaced)
    key: str
    full_scan: bool = False  # redacted without the pre-check: a rescan would find nothing more


def prepare(
    method: str,
    resource: Resource,
    raw: bytes | None,
    content_encoding: str | None = None,
    max_body: int = bodies.DEFAULT_MAX_BODY,
    full_scan: bool = False,
    path: str | None = None,
) -> Prepared:
    """Raises BodyTooLarge, or ValueError with a reason a client can act on.

    `full_scan`: redact without the raw-bytes pre-check (it cannot see base64-encoded keys): what
    replay tries before it answers a miss.
    """
    body: JSON = None
    # Big bodies are prepared in a thread anyway: scan them in full once rather than twice on a miss.
    full_scan = full_scan or len(raw or b"") > OFF_LOOP_BYTES
    if resource.websocket:
        body = websocket.query_body(path or "")
    elif resource.has_body:
        data = bodies.decode(raw or b"", content_encoding, max_body)
        body = bodies.request_json(data)
        if not isinstance(body, dict):
            raise ValueError("the request body is JSON but not an object")
        if full_scan or redaction.may_contain(data):
            body = redaction.redact(body)  # recordings store secrets as placeholders
    return Prepared(body, request_key(method, resource, body, path=path), full_scan)
