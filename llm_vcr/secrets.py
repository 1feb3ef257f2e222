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

# Most specific first: an Anthropic key also looks like an OpenAI one.
PATTERNS: list[tuple[str, str]] = [
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("aws-secret-key", r"(?i:aws_?secret_?access_?key)\W{0,5}[A-Za-z0-9/+=]{40}"),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("github-token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer-token", r"\b(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*"),
]
_RE = re.compile("|".join(f"(?P<{kind.replace('-', '_')}>{rx})" for kind, rx in PATTERNS))


# The same patterns over raw bytes: one C-speed scan decides whether a body needs the JSON walk.
_RAW = re.compile("|".join(rx for _, rx in PATTERNS).encode())


def may_contain(raw: bytes) -> bool:
    return _RAW.search(raw) is not None


def placeholder(kind: str, secret: str) -> str:
    return f"REDACTED:{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:8]}"


def redact_text(text: str, found: list[str] | None = None) -> str:
    """`text` with every key-shaped string replaced; the kinds found are appended to `found`."""

    def sub(m: re.Match[str]) -> str:
        kind = (m.lastgroup or "secret").replace("_", "-")
        if found is not None:
            found.append(kind)
        return placeholder(kind, m.group(0))

    return _RE.sub(sub, text)


def redact(value: JSON, found: list[str] | None = None) -> JSON:
    """A JSON value with secrets replaced in every string (keys included); unchanged objects are reused."""
    return _walk(value, lambda s: redact_text(s, found) if _RE.search(s) else s)


def _walk(value: JSON, fix: Callable[[str], str]) -> JSON:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {fix(k) if isinstance(k, str) else k: _walk(v, fix) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    return value
