"""What an agent does with the official OpenAI Python SDK, reduced to comparable results."""

from __future__ import annotations

import json
from typing import Any

import openai

from .harness import Engine

API_KEY = "sk-canary-e2e-0123456789abcdefghijklmnopqrstuv"  # must never reach a recording

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]


def client(base_url: str, proxy: str | None = None) -> openai.OpenAI:
    http = openai.DefaultHttpx2Client(proxy=proxy, trust_env=False)
    return openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, http_client=http, timeout=60)


def run_all(c: openai.OpenAI) -> dict[str, Any]:
    """Streaming chat, streamed tool call, non-streaming chat and completion, embeddings, models."""
    out: dict[str, Any] = {}
    chunks = [
        ch.to_dict()
        for ch in c.chat.completions.create(
            model=Engine.CHAT_MODEL, messages=MESSAGES, stream=True, temperature=0, max_tokens=16
        )
    ]
    out["stream"] = chunks
    out["stream_text"] = "".join((ch["choices"][0]["delta"].get("content") or "") for ch in chunks if ch["choices"])
    out["stream_finish"] = [ch["choices"][0].get("finish_reason") for ch in chunks if ch["choices"]][-1]

    tool_chunks = [
        ch.to_dict()
        for ch in c.chat.completions.create(
            model=Engine.CHAT_MODEL,
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            stream=True,
            temperature=0,
            max_tokens=48,
        )
    ]
    out["tool_stream"] = tool_chunks
    out["tool_call"] = merge_tool_call(tool_chunks)

    chat = c.chat.completions.create(model=Engine.CHAT_MODEL, messages=MESSAGES, temperature=0, max_tokens=16)
    out["chat"] = chat.to_dict()
    comp = c.completions.create(model=Engine.CHAT_MODEL, prompt="The sky is", temperature=0, max_tokens=8)
    out["completion"] = comp.to_dict()
    emb = c.embeddings.create(model=Engine.EMBED_MODEL, input=["hello world"], encoding_format="float")
    out["embedding"] = emb.to_dict()
    out["models"] = sorted(m.id for m in c.models.list())
    return out


def merge_tool_call(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """One tool call from its deltas. llama-cpp-python repeats the name in every delta: keep it once."""
    name, args = None, ""
    for ch in chunks:
        for choice in ch["choices"]:
            for tc in (choice.get("delta") or {}).get("tool_calls") or []:
                fn = tc.get("function") or {}
                name = name or fn.get("name")
                args += fn.get("arguments") or ""
    return {"name": name, "arguments": json.loads(args) if args else None}


def check_meaningful(result: dict[str, Any]) -> None:
    """Guard against comparing two empty results: the engine really answered."""
    assert result["stream_text"].strip() and len(result["stream"]) > 2
    assert result["stream_finish"] in ("stop", "length")
    assert result["tool_call"]["name"] == "get_weather" and "city" in result["tool_call"]["arguments"]
    assert result["chat"]["choices"][0]["message"]["content"]
    assert result["completion"]["choices"][0]["text"]
    assert len(result["embedding"]["data"][0]["embedding"]) == 576
    assert Engine.CHAT_MODEL in result["models"]
