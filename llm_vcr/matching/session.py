"""Replaying one WebSocket session: the recorded messages walked in order.

The proxy sends the server's messages up to the next client message, then waits for the client's;
each client message must match the recorded one (JSON events compared after the matching rules, with
`event_id`s, which clients generate, left out). A session that diverges from its recording moves to
another recording of the same request key whose client messages so far are the same (sessions
recorded in another order); if none fits, it is a miss, explained in words. Pure logic, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_vcr import bodies, redaction
from llm_vcr.apis import Resource, realtime
from llm_vcr.framings import websocket
from llm_vcr.matching import normalize
from llm_vcr.matching.keys import canonical, differences
from llm_vcr.store.recording import Recording

JSON = Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A recorded server message to send, and when it was sent (ms after the handshake request)."""

    text: bool
    content: bytes
    at_ms: float | None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A client message no recording expects: what the client sent and why it does not match."""

    index: int  # the client message's position among the client's messages (0-based)
    message: str


def comparable(resource: Resource, text: bool, content: bytes) -> JSON:
    """What a client message must equal: JSON under the matching rules, without generated ids."""
    if not text:
        return ["binary", content]
    try:
        data = bodies.loads(content, exact=True)
    except ValueError:
        return ["text", content]
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in realtime.CLIENT_GENERATED}
        if redaction.may_contain(content):
            data = redaction.redact(data)  # recordings hold secrets as placeholders
        return normalize.normalize(resource.api, resource.name, canonical(data), normalize.active())
    return canonical(data)


class _Script:
    """One candidate recording: its messages, and what its client messages compare as."""

    def __init__(self, path: Path, rec: Recording) -> None:
        assert rec.resource is not None
        self.path, self.rec = path, rec
        self.messages = websocket.messages(rec.response_body)
        offsets = rec.timing.get("chunks_ms") if rec.timing else None
        self.offsets: list[float | None] = list(offsets) if offsets else [None] * len(self.messages)
        self.client_at = [i for i, m in enumerate(self.messages) if m.from_client]
        self._expected: dict[int, JSON] = {}

    def expected(self, n: int) -> JSON:
        """The n-th client message as it compares (computed once)."""
        if n not in self._expected:
            m = self.messages[self.client_at[n]]
            self._expected[n] = comparable(self.rec.resource, m.text, m.content)  # type: ignore[arg-type]
        return self._expected[n]

    def type_of(self, n: int) -> str:
        data = websocket.parse(self.messages[self.client_at[n]])
        kind = data.get("type") if isinstance(data, dict) else None
        return f" ({kind})" if isinstance(kind, str) else ""


class SessionReplay:
    """The replay of one session. `candidates`: the recordings of its key, the one to serve first."""

    def __init__(self, resource: Resource, key: str, candidates: list[tuple[Path, Recording]]) -> None:
        if not candidates:
            raise ValueError("a session replay needs a recording")
        self.resource, self.key = resource, key
        self._scripts = [_Script(p, r) for p, r in candidates]
        self._script = self._scripts[0]
        self._pos = 0  # next recorded message
        self._received: list[JSON] = []  # the client's messages so far, as they compare
        self.served: list[Path] = [self._script.path]

    @property
    def path(self) -> Path:
        return self._script.path

    @property
    def headers_ms(self) -> float | None:
        timing = self._script.rec.timing
        return timing.get("headers_ms") if timing else None

    @property
    def subprotocol(self) -> str | None:
        socket = self._script.rec.socket or {}
        value = socket.get("subprotocol")
        return value if isinstance(value, str) and value else None

    def due(self) -> list[Outgoing]:
        """The server's messages up to the next client message (or the end), in order."""
        out = []
        messages = self._script.messages
        while self._pos < len(messages) and not messages[self._pos].from_client:
            m = messages[self._pos]
            out.append(Outgoing(m.text, m.content, self._script.offsets[self._pos]))
            self._pos += 1
        return out

    def client_offset(self) -> float | None:
        """When the last matched client message was sent in the recording (pacing anchor)."""
        if self._pos == 0:
            return self.headers_ms
        return self._script.offsets[self._pos - 1]

    @property
    def finished(self) -> bool:
        """Every recorded message has been exchanged."""
        return self._pos >= len(self._script.messages)

    def close(self) -> tuple[int, str] | None:
        """The close the server sent at the end of the recording, if the server closed it."""
        close = (self._script.rec.socket or {}).get("close")
        if isinstance(close, dict) and close.get("by") == websocket.SERVER and isinstance(close.get("code"), int):
            return close["code"], str(close.get("reason") or "")
        return None

    def receive(self, text: bool, content: bytes) -> Mismatch | None:
        """A client message: None if the recording expects it (the walk goes on), else a Mismatch."""
        n = len(self._received)
        got = comparable(self.resource, text, content)
        if self._fits(self._script, n, got):
            self._received.append(got)
            self._pos = self._script.client_at[n] + 1
            return None
        for script in self._scripts:  # another recording of this request key that fits so far
            if script is not self._script and self._fits(script, n, got) and self._same_prefix(script, n):
                self._script = script
                if script.path not in self.served:
                    self.served.append(script.path)
                self._received.append(got)
                self._pos = script.client_at[n] + 1
                return None
        return Mismatch(n, self._explain(n, text, content, got))

    def _fits(self, script: _Script, n: int, got: JSON) -> bool:
        return n < len(script.client_at) and script.expected(n) == got

    def _same_prefix(self, script: _Script, n: int) -> bool:
        return all(script.expected(i) == self._received[i] for i in range(n))

    def _explain(self, n: int, text: bool, content: bytes, got: JSON) -> str:
        script = self._script
        where = f"client message {n + 1}{_type(text, content)} of a {self.resource.name} session (key {self.key})"
        if n >= len(script.client_at):
            return (f"llm-vcr: {where}: the recording {script.path.name} ends after {len(script.client_at)} client "
                    "messages, and no other recording of this session goes further; record again: "
                    "llm-vcr run --mode record -- <your command>")  # fmt: skip
        diffs = differences(got, script.expected(n))
        what = "; ".join(diffs) if diffs else "it differs"
        return (f"llm-vcr: {where} does not match {script.path.name}, which expects{script.type_of(n)}: {what}. "
                "Record again (llm-vcr run --mode record -- <your command>), or add a matching rule for a field "
                "that changes between runs")  # fmt: skip


def _type(text: bool, content: bytes) -> str:
    if not text:
        return " (binary)"
    try:
        data = bodies.loads(content)
    except ValueError:
        return ""
    kind = data.get("type") if isinstance(data, dict) else None
    return f" ({kind})" if isinstance(kind, str) else ""
