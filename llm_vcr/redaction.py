"""Key-shaped strings must not reach disk: find them and replace them with stable placeholders.

A placeholder is `REDACTED:<kind>:<8 hex of sha256(secret)>`: the same secret always gives the
same placeholder, so files stay diff-stable and a request carrying a secret still matches its
recording (the live request is redacted the same way before its key is computed). The hash
prefix identifies nothing on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

JSON = Any

# Most specific first: an Anthropic key also looks like an OpenAI one. Each pattern starts with a
# literal, and each is scanned on its own: the regex engine then jumps between candidates. (One
# alternation of them all, or a leading \b or (?i:…), scans every position: 10x slower on big
# bodies, measured by scripts/bench.)
PATTERNS: list[tuple[str, str]] = [
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("aws-access-key", r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])"),
    ("aws-secret-key", r"(?:aws|AWS|Aws)_?(?:secret|SECRET|Secret)_?(?:access|ACCESS|Access)_?(?:key|KEY|Key)"
                       r"\W{0,5}[A-Za-z0-9/+=]{40}"),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("github-token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}"),
    ("slack-token", r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer-token", r"(?:Bearer|bearer|BEARER)\s+[A-Za-z0-9._~+/\-]{16,}=*"),
]  # fmt: skip
_TEXT = [(kind, re.compile(rx)) for kind, rx in PATTERNS]
_RAW = [re.compile(rx.encode()) for _, rx in PATTERNS]


def may_contain(raw: bytes) -> bool:
    """Whether raw bytes hold anything key-shaped: decides if a body needs the JSON walk."""
    return any(rx.search(raw) for rx in _RAW)


def placeholder(kind: str, secret: str) -> str:
    return f"REDACTED:{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:8]}"


def redact_text(text: str, found: list[str] | None = None) -> str:
    """`text` with every key-shaped string replaced; the kinds found are appended to `found`."""
    for kind, rx in _TEXT:
        if rx.search(text) is None:
            continue

        def sub(m: re.Match[str], kind: str = kind) -> str:
            if found is not None:
                found.append(kind)
            return placeholder(kind, m.group(0))

        text = rx.sub(sub, text)
    return text


def redact(value: JSON, found: list[str] | None = None) -> JSON:
    """A JSON value with secrets replaced in every string (keys included); unchanged objects are reused."""
    return _walk(value, lambda s: redact_text(s, found))


def _walk(value: JSON, fix: Callable[[str], str]) -> JSON:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {fix(k) if isinstance(k, str) else k: _walk(v, fix) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    return value
