"""A scripted OpenAI-compatible upstream for agent frameworks: exact, deterministic wire JSON.

It plays a tool-using model: each turn it calls the next tool the request offers that has no result
yet (one call per turn), then answers in text. Chat Completions (streamed or not) and the Responses
API. With a model name containing `omit-ids` it leaves tool-call ids out, and with `empty-ids` it
sends them empty, as some providers do, so the framework makes up its own (the AI SDK's
`generateId()` for a missing id, pydantic-ai's `pyd_ai_<hex>` for an empty one).
Telemetry endpoints answer 200. Used instead of the real engine where a conversation must take tool
turns every time (a 135M model does not) and for the Responses API (which llama.cpp does not serve).
"""

from __future__ import annotations

import http.server
import json
from typing import Any

from .harness import LocalServer, send_json


def _tools(body: dict) -> list[str]:
    names = []
    for t in body.get("tools") or []:
        fn = t.get("function") if isinstance(t.get("function"), dict) else t
        if isinstance(fn, dict) and fn.get("name"):
            names.append(fn["name"])
    return names


def _chat_called(messages: list[dict]) -> list[str]:
    names = []
    for m in messages:
        for c in m.get("tool_calls") or []:
            names.append(c.get("function", {}).get("name"))
    return names


def _responses_called(items: Any) -> list[str]:
    return [i.get("name") for i in items if isinstance(i, dict) and i.get("type") == "function_call"] if isinstance(
        items, list) else []  # fmt: skip


class FakeLLM(LocalServer):
    def __init__(self) -> None:
        outer = self
        self.requests: list[tuple[str, dict]] = []
        self.forwarding = True  # False: every request is a 503 (the upstream is "gone"), still counted

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.requests.append((self.path, {}))
                self._json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                outer.requests.append((self.path, body))
                if not outer.forwarding:
                    return self._json(503, {"error": {"message": "upstream stopped"}})
                path = self.path.split("?", 1)[0]
                if path.endswith("/chat/completions"):
                    return outer._chat(self, body)
                if path.endswith("/responses"):
                    return self._json(200, outer._response(body))
                return self._json(200, {})  # telemetry (traces, runs) and anything else

            def _json(self, status: int, doc: dict) -> None:
                send_json(self, status, doc)

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)

    def llm_requests(self) -> list[tuple[str, dict]]:
        return [(p, b) for p, b in self.requests if p.split("?")[0].endswith(("/chat/completions", "/responses"))]

    # ---- Chat Completions -----------------------------------------------------------

    def _chat(self, h: http.server.BaseHTTPRequestHandler, body: dict) -> None:
        called = _chat_called(body.get("messages") or [])
        todo = [t for t in _tools(body) if t not in called]
        n = len(called)
        model = str(body.get("model"))
        if todo:
            call = {"index": 0, "type": "function", "function": {"name": todo[0], "arguments": '{"city": "Paris"}'}}
            if "omit-ids" not in model:
                call["id"] = "" if "empty-ids" in model else f"call_{todo[0]}_{n}"
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": f"Done after {n} tool calls: sunny, 21:00 in Paris."}
            finish = "stop"
        base = {"id": f"chatcmpl-{n}", "created": 1700000000, "model": body.get("model", "m")}
        if not body.get("stream"):
            if "tool_calls" in message:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in message["tool_calls"]]
            usage = {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
            doc = {**base, "object": "chat.completion", "usage": usage,
                   "choices": [{"index": 0, "message": message, "finish_reason": finish}]}  # fmt: skip
            data = json.dumps(doc).encode()
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        chunks = [{"role": "assistant", "content": ""}]
        if "tool_calls" in message:
            c = message["tool_calls"][0]
            head = {k: v for k, v in c.items() if k != "function"} | {"function": {"name": c["function"]["name"],
                                                                                  "arguments": ""}}  # fmt: skip
            chunks.append({"tool_calls": [head]})
            for piece in ('{"city": ', '"Paris"}'):
                chunks.append({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        else:
            words = message["content"].split(" ")
            chunks += [{"content": w + (" " if i < len(words) - 1 else "")} for i, w in enumerate(words)]
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("transfer-encoding", "chunked")
        h.end_headers()

        def send(doc: dict | str) -> None:
            data = b"data: " + (doc.encode() if isinstance(doc, str) else json.dumps(doc).encode()) + b"\n\n"
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        for i, delta in enumerate(chunks):
            send({**base, "object": "chat.completion.chunk",
                  "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})  # fmt: skip
            del i
        send(
            {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        )
        if (body.get("stream_options") or {}).get("include_usage"):
            send({**base, "object": "chat.completion.chunk", "choices": [],
                  "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}})  # fmt: skip
        send("[DONE]")
        h.wfile.write(b"0\r\n\r\n")

    # ---- Responses API -----------------------------------------------------------------

    def _response(self, body: dict) -> dict:
        items = body.get("input")
        called = _responses_called(items)
        todo = [t for t in _tools(body) if t not in called]
        n = len(called)
        if todo:
            output = [{"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{todo[0]}_{n}", "name": todo[0],
                       "arguments": '{"city": "Paris"}', "status": "completed"}]  # fmt: skip
        else:
            text = f"Done after {n} tool calls: sunny in Paris."
            output = [{"type": "message", "id": f"msg_{n}", "status": "completed", "role": "assistant",
                       "content": [{"type": "output_text", "text": text, "annotations": []}]}]  # fmt: skip
        return {
            "id": f"resp_{n}", "object": "response", "created_at": 1700000000, "status": "completed",
            "model": body.get("model", "m"), "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
            "tools": [], "text": {"format": {"type": "text"}}, "error": None, "incomplete_details": None,
            "usage": {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
        }  # fmt: skip
