"""WebSocket sessions as envelopes: the ordered messages of both sides, one envelope each.

A session recording's `response.body` is the list of messages as they crossed the proxy, each an
envelope with `__from__` (`"client"` or `"server"`). A JSON text message is typed like any chunk
(by its `type`, in the SDK's names) and replays as compact JSON; a text message that is not JSON is
kept as a string (`llm_vcr.generic.Text`) and a binary one as base64 (`llm_vcr.generic.Bytes`), so
every message replays with the same content. The request part of a session is its query string
(`?model=…`), credentials left out: that is what identifies the session before a message is sent.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from llm_vcr import bodies
from llm_vcr.redaction import is_secret_param

JSON = Any

CLIENT, SERVER = "client", "server"
TEXT = "llm_vcr.generic.Text"
BYTES = "llm_vcr.generic.Bytes"
ABNORMAL = 1006  # no close frame: the connection dropped (RFC 6455 §7.1.5)


@dataclass(frozen=True, slots=True)
class Message:
    """One WebSocket message as sent: who sent it, text or binary, and its payload."""

    from_client: bool
    text: bool
    content: bytes


def is_upgrade(headers: dict[str, str] | Any) -> bool:
    """A request asking to switch to the WebSocket protocol (`Upgrade: websocket`)."""
    return "websocket" in str(headers.get("upgrade", "")).lower()


def query_body(path: str) -> dict[str, str]:
    """What identifies a session before any message: its query parameters, credentials left out
    (Azure's `api-key`, a `token`): they change with the account, not with the call."""
    pairs = parse_qsl(urlsplit(path).query, keep_blank_values=True)
    return {k: v for k, v in pairs if not is_secret_param(k)}


def parse(message: Message) -> JSON:
    """A message's data as stored: JSON when the text is JSON, else the text, or base64 for binary."""
    if not message.text:
        return base64.b64encode(message.content).decode()
    try:
        return bodies.loads(message.content, exact=True)
    except ValueError:
        return message.content.decode("utf-8", "replace")


def envelope(type_name: str, message: Message, data: JSON) -> dict[str, JSON]:
    return {"__type__": type_name, "__data__": data, "__from__": CLIENT if message.from_client else SERVER}


def type_fallback(message: Message, data: JSON) -> str | None:
    """The type of a message that is not a JSON object: None when the API's table decides."""
    if not message.text:
        return BYTES
    return None if isinstance(data, dict) else TEXT


def message(item: JSON) -> Message:
    """The wire message of a recorded envelope; ValueError naming what is wrong."""
    if not isinstance(item, dict) or "__data__" not in item:
        raise ValueError("is not an envelope")
    side = item.get("__from__")
    if side not in (CLIENT, SERVER):
        raise ValueError(f'has no "__from__": "client" or "server" (got {str(side)[:20]!r})')
    data = item["__data__"]
    if item.get("__type__") == BYTES:
        if not isinstance(data, str):
            raise ValueError("is binary but its data is not a base64 string")
        try:
            return Message(side == CLIENT, False, base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"is binary but its data is not base64 ({e})") from e
    if item.get("__type__") == TEXT and isinstance(data, str):
        return Message(side == CLIENT, True, data.encode())
    return Message(side == CLIENT, True, bodies.dumps(data))


def messages(items: JSON) -> list[Message]:
    """Every message of a recorded session, in order; ValueError naming the first bad one."""
    if not isinstance(items, list):
        raise ValueError("the session is not a list of messages")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(message(item))
        except ValueError as e:
            raise ValueError(f"message {i} {e}") from e
    return out
