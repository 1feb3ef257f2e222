"""One answer out of a stream's chunks or a whole body, for every API: text, tool calls with their
arguments merged, finish reason, usage. Used by the mitmweb view, `llm-vcr show` and the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from llm_vcr.apis import (  # fmt: skip
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    LISTINGS,
    MESSAGES,
    OLLAMA_CHAT,
    OLLAMA_EMBED,
    OLLAMA_EMBEDDINGS,
    OLLAMA_GENERATE,
    RESPONSES,
    Resource,
    realtime,
)

JSON = Any


@dataclass
class ToolCall:
    name: str | None = None
    arguments: str = ""
    id: str | None = None

    def parsed_arguments(self) -> JSON:
        try:
            return json.loads(self.arguments) if self.arguments else None
        except ValueError:
            return self.arguments  # shown as sent: a cut stream may leave half a JSON document


@dataclass
class Answer:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, JSON] | None = None
    chunks: int = 0
    model: str | None = None
    other: dict[str, JSON] = field(default_factory=dict)  # embeddings, listings: what there is to say

    @property
    def total_tokens(self) -> int:
        u = self.usage or {}
        for key in ("total_tokens",):
            if isinstance(u.get(key), int):
                return u[key]
        if isinstance(u.get("totalTokenCount"), int) or isinstance(u.get("totalTokens"), int):  # Gemini, Bedrock
            return u.get("totalTokenCount") or u.get("totalTokens")
        parts = [u.get(k) for k in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
                                    "prompt_eval_count", "eval_count")]  # fmt: skip
        return sum(p for p in parts if isinstance(p, int))


def assemble(resource: Resource, chunks: list[JSON], streaming: bool) -> Answer:
    ans = Answer(chunks=len(chunks) if streaming else 0)
    items = [c for c in chunks if isinstance(c, dict)]
    if resource in LISTINGS:
        data = items[0] if items else {}
        entries = data.get("models") or data.get("data") or items
        ans.other["models"] = [m.get("id") or m.get("model") or m.get("name") for m in entries if isinstance(m, dict)]
    elif resource in (EMBEDDINGS, OLLAMA_EMBED, OLLAMA_EMBEDDINGS):
        _embeddings(ans, items[0] if items else {})
    elif resource is RESPONSES:
        _responses(ans, items, streaming)
    elif resource is MESSAGES:
        _anthropic(ans, items, streaming)
    elif resource in (OLLAMA_CHAT, OLLAMA_GENERATE):
        _ollama(ans, items)
    elif resource in (CHAT, COMPLETIONS):
        _openai(ans, items)
    elif resource.api == "gemini":
        _gemini(ans, items)
    elif resource.api == "bedrock":
        _bedrock(ans, items, streaming)
    elif resource is realtime.REALTIME:
        _realtime(ans, items)
    elif resource is realtime.RESPONSES_SOCKET:
        _responses(ans, items, True)
    return ans


def _tool(calls: dict[object, ToolCall], key: object) -> ToolCall:
    return calls.setdefault(key, ToolCall())


def _openai(ans: Answer, items: list[dict]) -> None:
    calls: dict[object, ToolCall] = {}
    for c in items:
        ans.model = ans.model or c.get("model")
        if isinstance(c.get("usage"), dict):
            ans.usage = c["usage"]
        for choice in c.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            part = choice.get("delta") or choice.get("message") or {}
            ans.text += (part.get("content") or "") if isinstance(part, dict) else ""
            ans.text += choice.get("text") or ""
            for i, tc in enumerate((part.get("tool_calls") or []) if isinstance(part, dict) else []):
                call = _tool(calls, tc.get("index", i))
                fn = tc.get("function") or {}
                # Some servers (llama.cpp) repeat id and name in every delta: keep the first.
                call.id = call.id or tc.get("id")
                call.name = call.name or fn.get("name")
                call.arguments += fn.get("arguments") or ""
            ans.finish_reason = choice.get("finish_reason") or ans.finish_reason
    ans.tool_calls = list(calls.values())


def _responses(ans: Answer, items: list[dict], streaming: bool) -> None:
    final = next((i["response"] for i in items if i.get("type") in RESPONSES.terminal and "response" in i), None)
    if not streaming:
        final = items[0] if items else None
    calls: dict[object, ToolCall] = {}
    for ev in items if streaming else []:
        kind = ev.get("type")
        if kind == "response.output_text.delta":
            ans.text += ev.get("delta") or ""
        elif kind == "response.output_item.added" and (ev.get("item") or {}).get("type") == "function_call":
            call = _tool(calls, ev.get("output_index"))
            call.name, call.id = ev["item"].get("name"), ev["item"].get("call_id")
        elif kind == "response.function_call_arguments.delta":
            _tool(calls, ev.get("output_index")).arguments += ev.get("delta") or ""
    if isinstance(final, dict):
        ans.model, ans.usage, ans.finish_reason = final.get("model"), final.get("usage"), final.get("status")
        if not streaming:
            for item in final.get("output") or []:
                if item.get("type") == "message":
                    ans.text += "".join(p.get("text") or "" for p in item.get("content") or [])
                elif item.get("type") == "function_call":
                    calls[len(calls)] = ToolCall(item.get("name"), item.get("arguments") or "", item.get("call_id"))
    ans.tool_calls = list(calls.values())


def _anthropic(ans: Answer, items: list[dict], streaming: bool) -> None:
    calls: dict[object, ToolCall] = {}
    usage: dict[str, JSON] = {}
    if not streaming:
        msg = items[0] if items else {}
        items = [{"type": "message_start", "message": {**msg, "content": []}}]
        for i, block in enumerate(msg.get("content") or []):
            items.append({"type": "content_block_start", "index": i, "content_block": block})
        items.append({"type": "message_delta", "delta": {"stop_reason": msg.get("stop_reason")}})
    for ev in items:
        kind = ev.get("type")
        if kind == "message_start":
            ans.model = (ev.get("message") or {}).get("model")
            usage.update((ev.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            block = ev.get("content_block") or {}
            if block.get("type") == "tool_use":
                call = _tool(calls, ev.get("index"))
                call.name, call.id = block.get("name"), block.get("id")
                if block.get("input"):
                    call.arguments = json.dumps(block["input"])
            ans.text += block.get("text") or ""
        elif kind == "content_block_delta":
            delta = ev.get("delta") or {}
            ans.text += delta.get("text") or ""
            if delta.get("type") == "input_json_delta":
                _tool(calls, ev.get("index")).arguments += delta.get("partial_json") or ""
        elif kind == "message_delta":
            ans.finish_reason = (ev.get("delta") or {}).get("stop_reason") or ans.finish_reason
            usage.update(ev.get("usage") or {})
    ans.usage = usage or None
    ans.tool_calls = list(calls.values())


def _ollama(ans: Answer, items: list[dict]) -> None:
    for line in items:
        ans.model = ans.model or line.get("model")
        msg = line.get("message") or {}
        ans.text += (msg.get("content") or "") + (line.get("response") or "")
        for tc in msg.get("tool_calls") or []:
            fn = tc.get("function") or {}
            ans.tool_calls.append(ToolCall(fn.get("name"), json.dumps(fn.get("arguments")), tc.get("id")))
        if line.get("done"):
            ans.finish_reason = line.get("done_reason") or "stop"
            ans.usage = {k: line[k] for k in ("prompt_eval_count", "eval_count") if isinstance(line.get(k), int)}


def _gemini(ans: Answer, items: list[dict]) -> None:
    if items and ("embedding" in items[0] or "embeddings" in items[0]):
        vectors = [e.get("values") for e in items[0].get("embeddings") or [items[0].get("embedding") or {}]]
        ans.other["vectors"] = len(vectors)
        ans.other["dimensions"] = sorted({len(v) for v in vectors if isinstance(v, list)})
        return
    if items and "totalTokens" in items[0]:
        ans.other["total tokens"] = items[0]["totalTokens"]
        return
    for chunk in items:
        ans.model = ans.model or chunk.get("modelVersion")
        ans.usage = chunk.get("usageMetadata") or ans.usage
        for cand in (chunk.get("candidates") or [])[:1]:
            for part in (cand.get("content") or {}).get("parts") or []:
                ans.text += part.get("text") or ""
                if isinstance(part.get("functionCall"), dict):
                    fc = part["functionCall"]
                    ans.tool_calls.append(ToolCall(fc.get("name"), json.dumps(fc.get("args")), fc.get("id")))
            ans.finish_reason = cand.get("finishReason") or ans.finish_reason


def _bedrock(ans: Answer, items: list[dict], streaming: bool) -> None:
    calls: dict[object, ToolCall] = {}
    for ev in items:
        if not streaming and isinstance(ev.get("output"), dict):  # Converse
            for block in (ev["output"].get("message") or {}).get("content") or []:
                ans.text += block.get("text") or ""
                if isinstance(block.get("toolUse"), dict):
                    tu = block["toolUse"]
                    calls[len(calls)] = ToolCall(tu.get("name"), json.dumps(tu.get("input")), tu.get("toolUseId"))
            ans.finish_reason, ans.usage = ev.get("stopReason"), ev.get("usage")
        elif not streaming and isinstance(ev.get("content"), list):  # InvokeModel, Anthropic-shaped
            ans.text += "".join(c.get("text") or "" for c in ev["content"] if isinstance(c, dict))
            ans.finish_reason, ans.usage = ev.get("stop_reason"), ev.get("usage")
        delta = ev.get("delta") if isinstance(ev.get("delta"), dict) else {}
        ans.text += delta.get("text") or ""
        if isinstance(delta.get("toolUse"), dict):
            _tool(calls, ev.get("contentBlockIndex")).arguments += delta["toolUse"].get("input") or ""
        start = (ev.get("start") or {}).get("toolUse") if isinstance(ev.get("start"), dict) else None
        if isinstance(start, dict):
            call = _tool(calls, ev.get("contentBlockIndex"))
            call.name, call.id = start.get("name"), start.get("toolUseId")
        if ev.get("stopReason"):
            ans.finish_reason = ev["stopReason"]
        if isinstance(ev.get("usage"), dict) and streaming:
            ans.usage = ev["usage"]
        if streaming and isinstance(ev.get("bytes"), str):  # InvokeModelWithResponseStream: the model's own chunks
            ans.other["chunks of the model's own format"] = ans.other.get("chunks of the model's own format", 0) + 1
    ans.tool_calls = list(calls.values())


def _realtime(ans: Answer, items: list[dict]) -> None:
    """A Realtime session: the text (or audio transcript) of each response, one line per response."""
    texts: list[str] = []
    usage: dict[str, int] = {}
    current = ""
    for ev in items:
        kind = ev.get("type")
        if kind in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            current += ev.get("delta") or ""
        elif kind == "response.function_call_arguments.done":
            ans.tool_calls.append(ToolCall(ev.get("name"), ev.get("arguments") or "", ev.get("call_id")))
        elif kind == "session.created":
            ans.model = (ev.get("session") or {}).get("model") or ans.model
        elif kind == "response.done":
            response = ev.get("response") or {}
            ans.finish_reason = response.get("status") or ans.finish_reason
            for name, value in (response.get("usage") or {}).items():
                if isinstance(value, int):
                    usage[name] = usage.get(name, 0) + value  # the session's total over its responses
            texts.append(current)
            current = ""
    ans.text = "\n".join([*texts, current] if current else texts)
    ans.usage = usage or None
    ans.other["responses"] = len(texts)


def _embeddings(ans: Answer, data: dict) -> None:
    vectors = data.get("embeddings") or [d.get("embedding") for d in data.get("data") or [] if isinstance(d, dict)]
    if not vectors and isinstance(data.get("embedding"), list):
        vectors = [data["embedding"]]
    ans.model, ans.usage = data.get("model"), data.get("usage")
    ans.other["vectors"] = len(vectors)
    ans.other["dimensions"] = sorted({len(v) if isinstance(v, list) else "base64" for v in vectors}, key=str)


def render(ans: Answer, streaming: bool) -> str:
    """A YAML-like summary for terminals and mitmweb."""
    lines = []
    if ans.model:
        lines.append(f"model: {ans.model}")
    if streaming:
        lines.append(f"chunks: {ans.chunks}")
    if ans.text or not (ans.tool_calls or ans.other):
        lines.append("text: |")
        lines += [f"  {ln}" for ln in (ans.text or "").splitlines() or [""]]
    for call in ans.tool_calls:
        lines.append(f"tool call: {call.name}" + (f"  # {call.id}" if call.id else ""))
        args = call.parsed_arguments()
        shown = json.dumps(args, indent=2, ensure_ascii=False) if not isinstance(args, str) else args
        lines += [f"  {ln}" for ln in shown.splitlines()]
    for key, value in ans.other.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    if ans.finish_reason:
        lines.append(f"finish reason: {ans.finish_reason}")
    if ans.usage:
        lines.append(f"usage: {json.dumps(ans.usage)}")
    return "\n".join(lines)
