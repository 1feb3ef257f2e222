"""What a client sees when replay cannot answer: loud, specific, and never retried.

A miss is a 404 with an OpenAI-shaped error body, so every SDK raises a typed error that
shows the message. 404 is not in the SDKs' retry set (408, 409, 429, >= 500), and
`x-should-retry: false` overrides the status for SDKs that read it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

from llm_vcr import redaction
from llm_vcr.apis import Resource
from llm_vcr.store import Nearest
from llm_vcr.store.files import shown

MISS_STATUS = 404
BAD_REQUEST_STATUS = 400
TOO_LARGE_STATUS = 413
INTERNAL_STATUS = 500
NO_RETRY_HEADERS = {"x-should-retry": "false", "x-llm-vcr": "miss"}


@dataclass(slots=True)
class ErrorAnswer:
    status: int
    body: bytes
    message: str


def _answer(status: int, type_: str, code: str, message: str, **extra: object) -> ErrorAnswer:
    message = redaction.redact_text(message)  # values quoted from a request must not leak a key
    error = {"message": message, "type": type_, "code": code, "param": None, **extra}
    return ErrorAnswer(status, orjson.dumps({"error": error}), message)


def miss(
    method: str, resource: Resource, key: str, folder: Path, nearest: Nearest | None,
    partials: list[tuple[Path, str]] | None = None,
) -> ErrorAnswer:  # fmt: skip
    """The 404 of a miss: the nearest recording and where it first differs, or the partial recording
    that exists of this very request and why it was cut."""
    lines = [f"llm-vcr: no recording matched {method} {resource.name} (request key {key}) in {shown(folder)}."]
    near: dict[str, object] | None = None
    if partials:
        path, reason = partials[-1]
        lines.append(f"This request was recorded, but only partially: {shown(path)} ({reason}). Partial "
                     "recordings are never replayed: record it again.")  # fmt: skip
    if nearest is None:
        if not partials:
            lines.append(f"There is no {resource.name} recording at all in that folder.")
    else:
        n = nearest.turns_agreeing
        agree = "no turn agrees" if not n else "1 turn agrees" if n == 1 else f"{n} turns agree"
        model = "same model" if nearest.same_model else "another model"
        e = nearest.explanation
        lines.append(f"Nearest recording: {shown(nearest.path)} ({model}, {agree}): {e.summary}"
                     + (":" if e.lines else "."))  # fmt: skip
        lines += [f"  {line}" for line in e.lines]
        if len(e.differs_at) > 1:
            lines.append("Other differences: " + "; ".join(e.differs_at[1:]) + ".")
        near = {"file": str(nearest.path), "differs_at": e.differs_at, "summary": e.summary}
    lines.append("To record it, run once with --set vcr_mode=record (or vcr_mode=auto) against a real upstream; "
                 f"llm-vcr show {key} explains it again.")  # fmt: skip
    return _answer(MISS_STATUS, "llm_vcr_no_recording", "no_recording", "\n".join(lines), request_key=key, nearest=near)


def unsupported(method: str, url: str, what: str) -> ErrorAnswer:
    return _answer(
        MISS_STATUS,
        "llm_vcr_not_replayed",
        "not_replayed",
        f"llm-vcr does not replay {method} {url} ({what}) yet, and in replay mode no LLM API call reaches "
        "the network: it was answered here. Record and replay the calls llm-vcr supports (see the README, "
        "'Which traffic'), or run this part with --mode live.",
    )


def too_large(reason: str) -> ErrorAnswer:
    return _answer(
        TOO_LARGE_STATUS,
        "llm_vcr_request_too_large",
        "request_too_large",
        f"llm-vcr cannot replay this request: {reason}. Raise the limit with --set vcr_max_body_mb=N.",
    )


def unmatchable(reason: str) -> ErrorAnswer:
    return _answer(
        BAD_REQUEST_STATUS,
        "llm_vcr_invalid_request",
        "invalid_request",
        f"llm-vcr cannot replay this request: {reason}. Replay matches requests by their JSON body.",
    )


def internal(error: BaseException) -> ErrorAnswer:
    return _answer(
        INTERNAL_STATUS,
        "llm_vcr_internal_error",
        "internal_error",
        f"llm-vcr failed while replaying ({type(error).__name__}: {error}). The upstream was not "
        "contacted. Please report this with the proxy log.",
    )


def summary(count: int, keys: list[str], most: int = 10) -> str:
    """The misses of a run in one line: each request key once, with how often it missed; requests that
    could not be keyed at all (not JSON, too large, too deep) counted apart."""
    seen = Counter(keys)
    shown_keys = [f"{k} (x{n})" if n > 1 else k for k, n in list(seen.items())[:most]]
    if len(seen) > most:
        shown_keys.append(f"and {len(seen) - most} more keys")
    if unkeyed := count - len(keys):
        shown_keys.append(f"{unkeyed} request{'s' if unkeyed > 1 else ''} that could not be keyed (see the log)")
    return ", ".join(shown_keys)
