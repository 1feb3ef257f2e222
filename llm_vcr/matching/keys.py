"""Request keys: what makes two requests "the same call".

A key is a digest of (method, resource, canonical body). The canonical body is the JSON
value with object keys sorted and integral floats written as integers, so `{"a":0}` from
a Node client and `{"a": 0.0}` from Python give one key. Host, path prefix, query string
and headers are not part of it: a recording made against one base URL replays for any.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from llm_vcr.apis import Resource, mcp
from llm_vcr.apis.guard import normalize_path
from llm_vcr.bodies import MAX_DEPTH
from llm_vcr.matching import normalize
from llm_vcr.matching.normalize import Rules

KEY_LENGTH = 16  # hex digits shown to users and used in file names

JSON = Any


def canonical(value: JSON, depth: int = 0) -> JSON:
    """A JSON value in the form used for keys and comparisons.

    ValueError past `MAX_DEPTH` nesting levels (a hostile body must not exhaust the stack) and for
    non-finite floats (they are not JSON, and would otherwise serialise as null).
    """
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        return {str(k): canonical(value[k], depth + 1) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        return [canonical(v, depth + 1) for v in value]
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
    elif isinstance(value, int) and not -(2**63) <= value < 2**64 and not isinstance(value, bool):
        return float(value)  # as orjson reads it on the hot path: one key either way
    return value


def wire_body(body: JSON) -> JSON:
    """The JSON an SDK put on the wire, from a body as other recorders store it.

    llama-stack stores SDK keyword arguments: `extra_body` is merged into the wire JSON by
    the SDK, and `extra_query` went to the query string, so neither is a body key.
    """
    if not isinstance(body, dict) or ("extra_body" not in body and "extra_query" not in body):
        return body
    out = {k: v for k, v in body.items() if k not in ("extra_body", "extra_query")}
    extra = body.get("extra_body")
    if isinstance(extra, dict):
        out.update(extra)
    return out


def request_key(
    method: str, resource: Resource, body: JSON, rules: Rules | None = None, path: str | None = None
) -> str:
    """The hex key of a request under the matching rules (default: the active ones, see
    `normalize`). Listings (`GET /models`, `/api/tags`) have one key each. For APIs that put the model
    in the path (Gemini, Bedrock), `path` gives it: it is part of the key."""
    rules = rules if rules is not None else normalize.active()
    if resource.websocket:  # a session: its query (`model`) and path (the variant) at the handshake
        norm = normalize.normalize(resource.api, resource.name, canonical(body or {}), rules)
        material: JSON = ["GET", resource.name, norm, resource.path_params(normalize_path(path or ""))]
    elif not resource.has_body:
        material = ["GET", resource.name, None]
    else:
        if resource.api == "mcp":  # JSON-RPC: the method and params, never the id or the client's _meta
            body = mcp.key_body(body)
        norm = normalize.normalize(resource.api, resource.name, canonical(body), rules)
        material = [method.upper(), resource.name, norm]
        if resource.api == "mcp" and path is not None:
            material.append(normalize_path(path))  # one host may serve several tool servers
        if resource.pattern is not None and path is not None:
            material.append(resource.path_params(normalize_path(path)))
    digest = hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
    return digest.hexdigest()[:KEY_LENGTH]


def differences(want: JSON, have: JSON, path: str = "", limit: int = 5) -> list[str]:
    """Paths where two canonical JSON values differ, e.g. `messages[1].content`, at most `limit`."""
    out: list[str] = []
    _diff(want, have, path, out, limit)
    return out


def _diff(a: JSON, b: JSON, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.append(f"{sub} ({'only in request' if k in a else 'only in recording'})")
            else:
                _diff(a[k], b[k], sub, out, limit)
            if len(out) >= limit:
                return
    elif isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _diff(x, y, f"{path}[{i}]", out, limit)
            if len(out) >= limit:
                return
        if len(a) != len(b):
            out.append(f"{path or '(body)'} (length {len(a)} in request, {len(b)} in recording)")
    elif a != b or type(a) is not type(b):
        out.append(f"{path or '(body)'} (request {_short(a)}, recording {_short(b)})")


def _short(value: JSON, limit: int = 40) -> str:
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # never serialise a 50 MB string to show 40 characters of it
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"
