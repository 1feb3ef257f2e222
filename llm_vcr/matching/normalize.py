"""Normalisation before keying: what a request key ignores so that the next run, and the next client, match.

Applied identically to a live request and to every stored one (stored files are never rewritten:
keys stay derived), on the canonical body (keys sorted), so the result does not depend on the
order a client writes its fields in.

Built-in rules, each for a framework that needs it (README, "Matching"):
- `"stream": false` equals an absent `stream` (langchain, llama-index and pydantic-ai send it, the
  OpenAI SDKs do not). Not for Ollama, whose `stream` defaults to true.
- `prompt_cache_key`: generated ids reduced to their shape (the OpenAI Agents SDK sends
  `agents-sdk:run:<uuid4 hex>`, new on every run). It steers caching, never the answer.
- `metadata.user_id`: session UUIDs reduced to their shape (coding agents put one there per session).
- arrays that are sets by contract are sorted: the Responses API's `include` (the Agents SDK builds
  it from a Python set, whose order varies between processes).
- ids the client generates are numbered in order of first appearance: tool-call ids in their
  positions (`tool_calls[].id`, `tool_call_id`, Responses `call_id`, Anthropic `tool_use.id` /
  `tool_use_id`) and UUID-shaped strings anywhere become `<id-1>`, `<id-2>`… So a turn that echoes a
  random id (pydantic-ai's `pyd_ai_<hex>`, the Vercel AI SDK's `generateId()`) matches the recording
  made with another random id; ids a recording served come back the same in replay and number alike.

User rules (a project's `[tool.llm-vcr]` in pyproject.toml or `llm-vcr.toml`, and the `vcr_ignore` /
`vcr_normalize` options): JSON paths removed from the key, and regex replacements on string values.
Rules that would change what a server answers (`tool_choice`, `stream_options`, `parallel_tool_calls`)
are never built in: measured, `tool_choice: "auto"` vs absent turns a real engine's text into a tool call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

JSON = Any

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GENERATED = re.compile(UUID.pattern + r"|(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])")
_ID_KEYS = frozenset({"tool_call_id", "call_id", "tool_use_id"})  # values that name a tool call
_ID_PARENTS = frozenset({"tool_calls"})  # list whose elements' `id` names a tool call
_ID_TYPES = frozenset({"tool_use", "server_tool_use", "function_call", "custom_tool_call"})  # blocks whose `id` does
_DEFAULT_STREAM_APIS = frozenset({"openai", "anthropic"})  # APIs whose `stream` defaults to false
_SET_FIELDS = {"responses": ("include",)}  # resource name -> top-level arrays that are sets


class RuleError(ValueError):
    """A user rule that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Path:
    """A JSON path: `metadata.request_id`, `messages[*].content`, `messages[role=system].content`."""

    text: str
    steps: tuple[tuple[str, str | None, str | None], ...]  # (key, "*" | filter-key, filter-value)

    @classmethod
    def parse(cls, text: str) -> Path:
        steps = []
        for part in text.strip().split("."):
            m = re.fullmatch(r"([^\[\]]+)(?:\[(\*|([^=\]]+)=([^\]]*))\])?", part)
            if not m:
                raise RuleError(
                    f"{text!r} is not a JSON path (e.g. metadata.request_id, messages[role=system].content)"
                )
            key, star, fkey, fval = m.groups()
            steps.append((key, "*" if star == "*" else fkey, fval))
        return cls(text.strip(), tuple(steps))

    def drop(self, value: JSON) -> None:
        """Remove what the path names from `value` (in place)."""
        _drop(value, self.steps)


def _drop(value: JSON, steps: tuple[tuple[str, str | None, str | None], ...]) -> None:
    if not steps or not isinstance(value, dict):
        return
    (key, fkey, fval), rest = steps[0], steps[1:]
    if key not in value:
        return
    if fkey is None:
        if rest:
            _drop(value[key], rest)
        else:
            del value[key]
        return
    items = value[key]
    if not isinstance(items, list):
        return
    keep = []
    for item in items:
        hit = fkey == "*" or (isinstance(item, dict) and str(item.get(fkey)) == fval)
        if hit and not rest:
            continue  # `messages[role=system]`: the element itself goes
        if hit:
            _drop(item, rest)
        keep.append(item)
    value[key] = keep


@dataclass(frozen=True)
class Rules:
    builtin: bool = True
    ignore: tuple[Path, ...] = ()
    replace: tuple[tuple[re.Pattern[str], str], ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)  # where user rules came from, for messages

    @classmethod
    def build(cls, ignore: list[str] | tuple[str, ...] = (), normalize: list[str] | tuple[str, ...] = (),
              builtin: bool = True, sources: tuple[str, ...] = ()) -> Rules:  # fmt: skip
        return cls(builtin, tuple(Path.parse(p) for p in ignore), tuple(parse_replacement(r) for r in normalize),
                   sources)  # fmt: skip

    @property
    def fingerprint(self) -> str:
        """Changes whenever keys could: part of the index cache's version."""
        text = repr((self.builtin, [p.text for p in self.ignore], [(r.pattern, s) for r, s in self.replace]))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def __bool__(self) -> bool:
        return self.builtin or bool(self.ignore) or bool(self.replace)


def parse_replacement(spec: str | tuple[str, str] | list[str]) -> tuple[re.Pattern[str], str]:
    """`|regex|replacement` (mitmproxy's form: the first character separates), or a (regex, replacement) pair."""
    if isinstance(spec, tuple | list):
        if len(spec) != 2:
            raise RuleError(f"a replacement is (regex, replacement), not {spec!r}")
        pattern, repl = spec
    else:
        if len(spec) < 3:
            raise RuleError(f"{spec!r} is not a replacement: write it as |regex|replacement")
        sep = spec[0]
        parts = spec[1:].split(sep)
        if len(parts) != 2:
            raise RuleError(f"{spec!r} is not a replacement: write it as {sep}regex{sep}replacement")
        pattern, repl = parts
    try:
        return re.compile(pattern), repl
    except re.error as e:
        raise RuleError(f"{pattern!r} is not a regular expression: {e}") from e


DEFAULT = Rules()
_active = DEFAULT


def active() -> Rules:
    return _active


def set_active(rules: Rules) -> None:
    """The rules every key is computed with in this process (the proxy's options, the CLI's config)."""
    global _active
    _active = rules


def normalize(api: str, resource: str, body: JSON, rules: Rules) -> JSON:
    """The canonical `body` as keys see it under `rules` (a new structure; `body` is left as it is)."""
    if not isinstance(body, dict) or not rules:
        return body
    out = dict(body)
    if rules.builtin:
        if api in _DEFAULT_STREAM_APIS and out.get("stream") is False:
            del out["stream"]
        pck = out.get("prompt_cache_key")
        if isinstance(pck, str):
            out["prompt_cache_key"] = _GENERATED.sub("<id>", pck)
        meta = out.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("user_id"), str):
            out["metadata"] = {**meta, "user_id": UUID.sub("<uuid>", meta["user_id"])}
        for name in _SET_FIELDS.get(resource, ()):
            if isinstance(out.get(name), list) and all(isinstance(x, str) for x in out[name]):
                out[name] = sorted(out[name])
    if rules.replace:
        out = _replace(out, rules.replace)
    if rules.ignore:
        out = _copy(out)
        for path in rules.ignore:
            path.drop(out)
    if rules.builtin:
        out = _remap(out, {}, None)
    return out


def _replace(value: JSON, rules: tuple[tuple[re.Pattern[str], str], ...]) -> JSON:
    if isinstance(value, str):
        for rx, repl in rules:
            value = rx.sub(repl, value)
        return value
    if isinstance(value, dict):
        return {k: _replace(v, rules) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, rules) for v in value]
    return value


def _copy(value: JSON) -> JSON:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _remap(value: JSON, ids: dict[str, str], parent: str | None) -> JSON:
    """Client-generated ids numbered in order of first appearance (traversal of the canonical body)."""
    if isinstance(value, str):
        if len(value) == 36 and UUID.fullmatch(value):
            return ids.setdefault(value, f"<id-{len(ids) + 1}>")
        return value
    if isinstance(value, list):
        return [_remap(v, ids, parent) for v in value]
    if isinstance(value, dict):
        id_here = parent in _ID_PARENTS or value.get("type") in _ID_TYPES
        out = {}
        for k, v in value.items():
            if isinstance(v, str) and (k in _ID_KEYS or (k == "id" and id_here)):
                out[k] = ids.setdefault(v, f"<id-{len(ids) + 1}>")
            else:
                out[k] = _remap(v, ids, k)
        return out
    return value
