"""Key-shaped strings must not reach disk or logs: find them and replace them with stable placeholders.

A placeholder is `REDACTED:<kind>:<8 hex of sha256(secret)>`: the same secret always gives the same
placeholder, so files stay diff-stable and a request carrying a secret still matches its recording
(the live request is redacted the same way before its key is computed). The hash prefix identifies
nothing on its own.

What counts as a key: a known prefix (`sk-`, `AKIA`, `hf_`, `gsk_`…) at the start of a word, followed
by enough key characters, some of them digits (so `risk-assessment-for-production-rollout` and
`sk-learn-and-pandas` stay text); JWTs, bearer tokens, PEM private-key blocks; and the base64 and
percent-encoded forms of prefixed keys.

Keys split across pieces: a streamed answer sends text in deltas, a conversation in messages, and a
key may straddle two of them. Strings are grouped in *channels* (the same JSON path, list indexes
ignored: every chunk's `choices[*].delta.content`, every message's `content`), each channel is
scanned as one text, and a match is redacted in each piece it covers: the placeholder goes where the
key starts, the rest of the key is removed from the following pieces. So the assembled text reads
exactly as if the key had arrived whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from llm_vcr.bodies import MAX_DEPTH

JSON = Any

WINDOW = 256 * 1024  # characters per regex call: the GIL is released between calls on big texts
OVERLAP = 16 * 1024  # longest match found whole inside a window (a PEM block of an 8192-bit key)
LONGEST = 64 * 1024  # no key is longer; base64 runs beyond this are data (images, audio), not decoded

# Query parameters that carry credentials (Azure `api-key`, Google `key`, SAS `sig`, …).
SECRET_PARAM_HINTS = ("key", "token", "secret", "sig", "password", "auth", "credential")


def is_secret_param(name: str) -> bool:
    return any(h in name.lower() for h in SECRET_PARAM_HINTS)


def _has_digit(s: str) -> bool:
    return any(c.isdigit() for c in s)


@dataclass(frozen=True, slots=True)
class Shape:
    kind: str
    rx: re.Pattern[str]
    needles: tuple[str, ...] = ()  # one of them is in every match: skip the regex when none is in the text
    digits_after: int | None = None  # this many prefix characters, then a digit somewhere (random, not words)
    boundary: bool = True  # must start a word (or a piece)
    encoded: Callable[[str], str | None] | None = None  # decodes a match; the kind of key inside, or None


def _prefixed(kind: str, rx: str, *needles: str, prefix: int | None = None) -> Shape:
    return Shape(kind, re.compile(rx), needles, len(needles[0]) if prefix is None else prefix)


# Most specific first: an Anthropic key also looks like an OpenAI one. Each pattern starts with a
# literal (the regex engine then jumps between candidates); the word boundary is checked in code,
# because a leading \b or look-behind makes the engine try every position (10x slower, scripts/bench).
SHAPES: list[Shape] = [
    _prefixed("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}", "sk-ant-"),
    _prefixed("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", "sk-"),
    Shape("aws-access-key", re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])"), ("AKIA", "ASIA")),
    Shape("aws-secret-key", re.compile(r"(?:aws|AWS|Aws)_?(?:secret|SECRET|Secret)_?(?:access|ACCESS|Access)_?"
                                       r"(?:key|KEY|Key)\W{0,5}[A-Za-z0-9/+=]{40}"), ("aws", "AWS", "Aws")),
    _prefixed("google-api-key", r"AIza[0-9A-Za-z_\-]{35}", "AIza"),
    _prefixed("github-token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}", "gh", prefix=4),
    _prefixed("github-token", r"github_pat_[A-Za-z0-9_]{50,}", "github_pat_"),
    _prefixed("huggingface-token", r"hf_[A-Za-z0-9]{30,}", "hf_"),
    _prefixed("groq-key", r"gsk_[A-Za-z0-9]{40,}", "gsk_"),
    _prefixed("xai-key", r"xai-[A-Za-z0-9]{40,}", "xai-"),
    _prefixed("replicate-token", r"r8_[A-Za-z0-9]{30,}", "r8_"),
    _prefixed("slack-token", r"xox[abprs]-[A-Za-z0-9\-]{10,}", "xox", prefix=5),
    Shape("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), ("eyJ",)),
    _prefixed("bearer-token", r"(?:Bearer|bearer|BEARER)\s+[A-Za-z0-9._~+/\-]{16,}=*", "earer", "EARER", prefix=7),
    Shape("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*"
                                    r"PRIVATE KEY-----|[A-Za-z0-9+/=\s]*)"), ("-----BEGIN",), boundary=False),
]  # fmt: skip
_WORD = re.compile(r"[A-Za-z0-9_]")
_SHORTEST = 14  # no shape matches fewer characters (a Slack token): shorter dict keys are skipped


def _find_plain(text: str) -> Shape | None:
    """The first plain key shape found anywhere in `text` (for decoded forms)."""
    for shape in SHAPES:
        if shape.needles and not any(n in text for n in shape.needles):
            continue
        pos = 0
        while (m := shape.rx.search(text, pos)) is not None:
            if _accept(shape, text, m, ()):
                return shape
            pos = m.start() + 1
    return None


def _from_base64(run: str) -> str | None:
    core = run.rstrip("=")
    core = core[: len(core) - len(core) % 4 if len(core) % 4 == 1 else len(core)]
    try:
        raw = base64.b64decode(core.replace("-", "+").replace("_", "/") + "=" * (-len(core) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    shape = _find_plain(raw.decode("latin-1"))
    return shape.kind if shape else None


def _from_percent(run: str) -> str | None:
    if len(run) < 20:
        return None
    shape = _find_plain(unquote(run))
    return shape.kind if shape else None


_URLCHAR = r"(?:[A-Za-z0-9_.~+\-]|%[0-9A-Fa-f]{2})"
_ENCODED = [
    # Runs are maximal, so they start a word by construction (boundary=False): a rejected run is skipped whole.
    Shape("base64", re.compile(r"[A-Za-z0-9+/_\-]{28,}={0,2}"), boundary=False, encoded=_from_base64),
    Shape("url-encoded", re.compile(rf"[A-Za-z0-9_.~+\-]*%[0-9A-Fa-f]{{2}}{_URLCHAR}*"), ("%",), boundary=False,
          encoded=_from_percent),
]  # fmt: skip
SHAPES_ALL = SHAPES + _ENCODED


def _accept(shape: Shape, text: str, m: re.Match[str], starts: tuple[int, ...]) -> bool:
    """A candidate counts if it starts a word (or a piece) and, for prefixed keys, its random part has a digit."""
    at = m.start()
    if shape.boundary and at > 0 and at not in starts and _WORD.match(text, at - 1):
        return False
    if shape.digits_after is not None and not _has_digit(m.group(0)[shape.digits_after :]):
        return False
    return True


def placeholder(kind: str, secret: str) -> str:
    return f"REDACTED:{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:8]}"


# ---- the fast pre-check on raw bytes --------------------------------------------------


# The literals of the plain shapes, and "%" for percent-encoded keys. Base64-encoded keys have no
# cheap literal: the write path always scans in full, and replay tries a full scan before it misses.
_LITERALS: tuple[bytes, ...] = (
    b"sk-", b"AKIA", b"ASIA", b"AIza", b"gh", b"github_pat_", b"hf_", b"gsk_", b"xai-", b"r8_", b"xox", b"eyJ",
    b"earer ", b"EARER ", b"earer\\", b"EARER\\", b"earer\t", b"EARER\t", b"-----BEGIN", b"aws", b"AWS", b"Aws",
    b"%",
)  # fmt: skip


def may_contain(raw: bytes) -> bool:
    """Whether raw bytes may hold a plain or percent-encoded key: decides if a body needs the JSON walk.

    One `in` per literal (C speed; a regex alternation would try every position: 10x slower). It
    misses base64-encoded keys and keys whose literal prefix is split across two JSON strings; on the
    write path every recording is scanned in full, and replay rescans in full before it misses.
    """
    if len(raw) <= WINDOW:
        return any(lit in raw for lit in _LITERALS)
    return any(_contains(raw, lit) for lit in _LITERALS)


def _contains[T: (str, bytes)](text: T, needle: T) -> bool:
    """`needle in text`, a window at a time on big texts: each C call is short, so a scan in a worker
    thread never holds the GIL (and the proxy's event loop) for long."""
    size, step = len(text), WINDOW * 4
    if size <= step:
        return needle in text
    return any(text.find(needle, at, at + step + len(needle)) != -1 for at in range(0, size, step))


# ---- scanning ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Match:
    start: int
    end: int
    kind: str


def _matches(text: str, starts: tuple[int, ...] = ()) -> list[_Match]:
    """Key-shaped spans of `text` (merged where they overlap), scanning at most WINDOW characters per
    regex call. `starts`: offsets where a new piece begins (a word boundary: a new message or delta)."""
    found: list[tuple[int, int, int, str]] = []  # (start, order, end, kind)
    size = len(text)
    for order, shape in enumerate(SHAPES_ALL):
        if shape.needles and not any(_contains(text, needle) for needle in shape.needles):
            continue
        pos = 0
        while pos < size:
            endpos = min(size, pos + WINDOW + OVERLAP)
            m = shape.rx.search(text, pos, endpos)
            if m is None or m.start() >= pos + WINDOW:
                if endpos >= size:
                    break
                pos += WINDOW
                continue
            if m.end() == endpos < size:  # a long match cut by the window: extend it, boundedly
                m = shape.rx.match(text, m.start(), min(size, m.start() + LONGEST + 1)) or m
            kind = shape.kind
            if not _accept(shape, text, m, starts):
                pos = m.start() + 1
                continue
            if shape.encoded is not None:
                inner = shape.encoded(m.group(0)) if m.end() - m.start() <= LONGEST else None
                if inner is None:
                    pos = m.end()
                    continue
                kind = f"{inner}-{shape.kind}"
            found.append((m.start(), order, m.end(), kind))
            pos = m.end()
    found.sort()
    merged: list[_Match] = []
    for start, _, end, kind in found:
        if merged and start < merged[-1].end:
            merged[-1].end = max(merged[-1].end, end)
        else:
            merged.append(_Match(start, end, kind))
    return merged


def redact_text(text: str, found: list[str] | None = None) -> str:
    """`text` with every key-shaped string replaced; the kinds found are appended to `found`."""
    return _redact_pieces([text], found)[0]


# Printers shorten long values ("…/keys/AIzaSyA1b2C3…"): the start of a key is still a leak.
_TRUNCATED = re.compile(
    r"(?<![A-Za-z0-9_])(?:sk-|AIza|AKIA|ASIA|gh[pousr]_|github_pat_|hf_|gsk_|xai-|r8_|xox[abprs]-|eyJ)"
    r"[A-Za-z0-9_\-]{4,}(?=…|\.\.\.)"
)


def redact_log(text: str) -> str:
    """`redact_text` for lines shown to people: also the shortened starts of keys that printers cut."""
    text = redact_text(text)
    if "…" in text or "..." in text:
        text = _TRUNCATED.sub(lambda m: placeholder("truncated-key", m.group(0)), text)
    return text


def _redact_pieces(pieces: list[str], found: list[str] | None) -> list[str]:
    """The pieces of one channel, redacted as one text (see the module's docstring)."""
    if len(pieces) == 1:
        text, starts = pieces[0], ()
    else:
        text = "".join(pieces)
        offsets, at = [], 0
        for p in pieces:
            offsets.append(at)
            at += len(p)
        starts = tuple(offsets)
    spans = _matches(text, starts)
    if not spans:
        return pieces
    if found is not None:
        found.extend(s.kind for s in spans)
    if len(pieces) == 1:
        out, last = [], 0
        for s in spans:
            out += [text[last : s.start], placeholder(s.kind, text[s.start : s.end])]
            last = s.end
        return ["".join(out) + text[last:]]
    result = []
    piece_start = 0
    si = 0
    for p in pieces:
        piece_end = piece_start + len(p)
        out, cursor = [], piece_start
        while si < len(spans) and spans[si].start < piece_end:
            s = spans[si]
            if s.end <= piece_start:
                si += 1
                continue
            lo = max(s.start, piece_start)
            out.append(text[cursor:lo])
            if s.start >= piece_start:  # the key starts here: its placeholder goes here
                out.append(placeholder(s.kind, text[s.start : s.end]))
            cursor = min(s.end, piece_end)
            if s.end <= piece_end:
                si += 1
            else:
                break
        out.append(text[cursor:piece_end])
        result.append("".join(out))
        piece_start = piece_end
    return result


# ---- JSON documents ---------------------------------------------------------------------


def _leaves(value: JSON) -> Iterator[tuple[tuple[object, ...], JSON, object]]:
    """(channel, container, key) of every string value in document order; dict keys are redacted in place."""
    stack: list[tuple[JSON, tuple[object, ...], int]] = [(value, (), 0)]
    while stack:
        v, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        items = list(v.items()) if isinstance(v, dict) else list(enumerate(v))
        children = []
        for k, child in items:
            sub = (*path, k if isinstance(v, dict) else None)
            if isinstance(child, str):
                yield sub, v, k
            elif isinstance(child, dict | list):
                children.append((child, sub, depth + 1))
        stack.extend(reversed(children))


def redact(value: JSON, found: list[str] | None = None) -> JSON:
    """A copy of a JSON value with secrets replaced in every string (and key), channel by channel."""
    if isinstance(value, str):
        return redact_text(value, found)
    if not isinstance(value, dict | list):
        return value
    copy = _copy(value, found)
    channels: dict[tuple[object, ...], list[tuple[JSON, object]]] = {}
    for channel, container, key in _leaves(copy):
        channels.setdefault(channel, []).append((container, key))
    for slots in channels.values():
        pieces = [c[k] for c, k in slots]
        redacted = _redact_pieces(pieces, found)
        if redacted is not pieces:
            for (c, k), new in zip(slots, redacted, strict=True):
                c[k] = new
    return copy


def _copy(value: JSON, found: list[str] | None, depth: int = 0) -> JSON:
    """A structural copy (strings shared), redacting dict keys on the way; depth-limited."""
    if depth > MAX_DEPTH:
        raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {
            (redact_text(k, found) if isinstance(k, str) and len(k) >= _SHORTEST else k): _copy(v, found, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_copy(v, found, depth + 1) for v in value]
    return value
