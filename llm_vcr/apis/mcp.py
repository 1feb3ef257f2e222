"""MCP tool servers over streamable HTTP: JSON-RPC posted to one endpoint, answered with JSON or an SSE
stream of JSON-RPC messages; the session-based transport (`initialize`, `Mcp-Session-Id`) and the
stateless one alike.

A request is an MCP call when it is posted as the transport requires (`Accept: application/json,
text/event-stream`) with a JSON-RPC body, on any path (other JSON-RPC services accept no SSE).
Its key is the JSON-RPC method and params (the path too: one host may serve several tool servers),
never the request `id`, the session id or the `_meta` a client stamps on every call; so a new
session, and calls in another order, match. Replay answers with the recorded result under the live
request's `id`, and the recorded `Mcp-Session-Id` on `initialize`. Notifications (no `id`) are
answered `202 Accepted` locally and not recorded; in replay, `GET` (the server's event stream) gets
`405` and `DELETE` (end of session) `200`, as the transport allows, so nothing reaches the server.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_vcr.apis.base import Framing, Resource

JSON = Any


def _answered(chunks: list[JSON]) -> bool:
    """An SSE answer is whole once it holds the JSON-RPC response (clients hang up right after it)."""
    return any(isinstance(c, dict) and ("result" in c or "error" in c) for c in chunks)


CALL = Resource("mcp", "mcp", framing=Framing.SSE_PLAIN, body_type="mcp.JSONRPCResponse",
                chunk_type="mcp.JSONRPCMessage", complete_when=_answered)  # fmt: skip
RESOURCES = (CALL,)
SESSION_HEADER = "mcp-session-id"
MARKER = b'"jsonrpc"'


def is_call(method: str, raw: bytes | None, accept: str = "") -> bool:
    """A JSON-RPC message posted as MCP's streamable HTTP transport posts it."""
    accept = accept.lower()
    return (
        method == "POST" and raw is not None and "text/event-stream" in accept and "application/json" in accept
        and raw.lstrip()[:1] == b"{" and MARKER in raw
    )  # fmt: skip


def is_notification(body: JSON) -> bool:
    return isinstance(body, dict) and "id" not in body and "method" in body


def key_body(body: JSON) -> JSON:
    """What an MCP call's key sees: method and params without the client's `_meta` stamp."""
    if not isinstance(body, dict):
        return body
    params = body.get("params")
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if k != "_meta"}
    return {"method": body.get("method"), "params": params}


def with_id(data: JSON, request_id: JSON) -> JSON:
    """A recorded JSON-RPC response under the live request's id (notifications unchanged)."""
    if isinstance(data, dict) and "id" in data and ("result" in data or "error" in data):
        return {**data, "id": request_id}
    return data


def rewrite_ids(body: bytes, framing: Framing | None, request_id: JSON) -> bytes:
    """A recorded answer's bytes with the response's id replaced by the live one."""
    if framing is None:
        return orjson.dumps(with_id(orjson.loads(body), request_id))
    out = []
    for line in body.split(b"\n"):
        if line.startswith(b"data:"):
            try:
                msg = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                out.append(line)
                continue
            line = b"data: " + orjson.dumps(with_id(msg, request_id))
        out.append(line)
    return b"\n".join(out)
