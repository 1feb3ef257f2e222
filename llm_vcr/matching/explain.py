"""Why a request missed, per conversation: which recording is nearest and where it first differs, in words.

Both bodies are compared as keys see them (canonical and normalised: random ids are already
numbered), so what is reported is a difference that matters. The nearest recording is the one that
agrees longest on the conversation: same model first, then the longest common prefix of turns
(`messages`, `input`, `prompt`, `contents`), then the tools, then the other parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_vcr.matching.keys import differences

JSON = Any
WINDOW = 30  # characters shown on each side of the first difference in a string
CONVERSATION_FIELDS = ("messages", "input", "prompt", "contents")


@dataclass(frozen=True, order=True)
class Score:
    same_model: bool
    turns_agreeing: int
    same_tools: bool
    same_fields: int
    fewer_diffs: int


def _turns(body: JSON) -> tuple[str | None, list[JSON]]:
    if not isinstance(body, dict):
        return None, []
    for name in CONVERSATION_FIELDS:
        value = body.get(name)
        if isinstance(value, list):
            return name, value
        if value is not None:
            return name, [value]
    return None, []


def _common_prefix(a: list[JSON], b: list[JSON]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def score(want: JSON, have: JSON) -> Score:
    """How near a recording's (normalised) body is to a request's: compare with `max`."""
    if not isinstance(want, dict) or not isinstance(have, dict):
        return Score(False, 0, False, 0, -len(differences(want, have, limit=50)))
    _, a = _turns(want)
    _, b = _turns(have)
    others = (set(want) | set(have)) - {"model", "tools", *CONVERSATION_FIELDS}
    return Score(
        want.get("model") == have.get("model"),
        _common_prefix(a, b),
        want.get("tools") == have.get("tools"),
        sum(want.get(k) == have.get(k) for k in others),
        -len(differences(want, have, limit=50)),
    )


@dataclass
class Explanation:
    summary: str  # "turn 3 (tool result for get_weather): content differs"
    lines: list[str] = field(default_factory=list)  # the differing values, windowed
    differs_at: list[str] = field(default_factory=list)  # field paths, for machines


def explain(want: JSON, have: JSON) -> Explanation:
    """The first difference of a request (`want`) from a recording (`have`), in words."""
    if not isinstance(want, dict) or not isinstance(have, dict):
        return Explanation("the bodies differ", _values(want, have), differences(want, have))
    paths = differences(want, have, limit=5)
    name, a = _turns(want)
    _, b = _turns(have)
    n = _common_prefix(a, b)
    if name is not None and (n < len(a) or n < len(b)):
        if n < len(a) and n < len(b):
            where = f"turn {n + 1} ({describe(a, n)})"
            sub = differences(a[n], b[n], limit=1)
            what = sub[0].split(" (")[0] if sub else "it"
            x, y = _at(a[n], what), _at(b[n], what)
            return Explanation(f"{where}: {what} differs", _values(x, y), paths)
        if n < len(a):
            extra = f"turn {n + 1} ({describe(a, n)}) is new"
            return Explanation(f"the request has {len(a)} turns, the recording {len(b)}: {extra}", [], paths)
        return Explanation(f"the request has {len(a)} turns, the recording {len(b)} (it went on longer)", [], paths)
    if not paths:
        return Explanation("nothing in the body (another method, or rules that changed?)", [], paths)
    first = paths[0].split(" (")[0]
    label = "the tools differ at " + first if first.startswith("tools") else f"{first} differs"
    return Explanation(label, _values(_at(want, first), _at(have, first)), paths)


def describe(turns: list[JSON], i: int) -> str:
    """A turn in words: `user`, `assistant tool call get_weather`, `tool result for get_weather`."""
    t = turns[i]
    if not isinstance(t, dict):
        return "text"
    kind, role = t.get("type"), t.get("role")
    if role == "tool" or kind == "function_call_output":
        ref = t.get("tool_call_id") or t.get("call_id")
        return f"tool result for {_tool_name(turns[:i], ref) or 'a tool call'}"
    if isinstance(t.get("content"), list):
        blocks = [c for c in t["content"] if isinstance(c, dict)]
        results = [c for c in blocks if c.get("type") == "tool_result"]
        if results:
            names = [_tool_name(turns[:i], r.get("tool_use_id")) or "a tool call" for r in results]
            return f"tool result for {', '.join(names)}"
        uses = [c.get("name") for c in blocks if c.get("type") == "tool_use"]
        if uses:
            return f"{role} tool call {', '.join(map(str, uses))}"
    if kind == "function_call":
        return f"tool call {t.get('name')}"
    calls = t.get("tool_calls")
    if isinstance(calls, list) and calls:
        names = [c.get("function", {}).get("name") for c in calls if isinstance(c, dict)]
        return f"{role or 'assistant'} tool call {', '.join(map(str, names))}"
    return str(role or kind or "item")


def _tool_name(earlier: list[JSON], ref: object) -> str | None:
    for t in reversed(earlier):
        if not isinstance(t, dict):
            continue
        if t.get("type") == "function_call" and t.get("call_id") == ref:
            return str(t.get("name"))
        for c in t.get("tool_calls") or []:
            if isinstance(c, dict) and c.get("id") == ref:
                return str(c.get("function", {}).get("name"))
        for c in t.get("content") if isinstance(t.get("content"), list) else []:
            if isinstance(c, dict) and c.get("type") == "tool_use" and c.get("id") == ref:
                return str(c.get("name"))
    return None


def _at(value: JSON, path: str) -> JSON:
    """The value at a path as `differences` writes it (`a.b[2].c`), or None when it is not there."""
    import re

    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            i = int(part[1:-1])
            value = value[i] if isinstance(value, list) and i < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def _values(want: JSON, have: JSON) -> list[str]:
    a, b = window(want, have)
    return [f"request   {a}", f"recording {b}"]


def window(want: JSON, have: JSON) -> tuple[str, str]:
    """Both values around their first differing character, marked `[x]`, with quotes closed."""
    if not isinstance(want, str) or not isinstance(have, str):
        return _short(want), _short(have)
    i = next((k for k, (x, y) in enumerate(zip(want, have, strict=False)) if x != y), min(len(want), len(have)))
    return _cut(want, i), _cut(have, i)


def _cut(text: str, i: int) -> str:
    start = max(0, i - WINDOW)
    head = ("…" if start else "") + text[start:i]
    if i < len(text):
        mark, tail = f"[{text[i]}]", text[i + 1 : i + 1 + WINDOW] + ("…" if i + 1 + WINDOW < len(text) else "")
    else:
        mark, tail = "[end]", ""
    return '"' + (head + mark + tail).replace("\n", "\\n") + '"'


def _short(value: JSON, limit: int = 80) -> str:
    if value is None:
        return "(absent)"
    text = orjson.dumps(value if not isinstance(value, str) else value[:limit]).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"
