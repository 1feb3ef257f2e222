"""Scripted Gemini and Bedrock servers speaking the exact wire formats: Gemini's JSON, its streams as a
chunked JSON array or (with `alt=sse`) SSE data frames with no end marker; Bedrock's JSON and its AWS
event streams (binary messages with CRCs, written by botocore's own framing rules, checked by boto3).
Answers are deterministic and echo the last user text, so a replay that served the wrong recording
would show. `fault` makes the next stream misbehave (bad CRC, truncated message, split UTF-8).
"""

from __future__ import annotations

import base64
import http.server
import json

from llm_vcr.framings import eventstream

from .harness import LocalServer, send_json

WORDS = ["It ", "is ", "sunny ", "in ", "Paris", " ☀️"]


def _last_text(body: dict) -> str:
    for c in reversed(body.get("contents") or []):
        for p in c.get("parts") or []:
            if "text" in p:
                return p["text"]
    for m in reversed(body.get("messages") or []):
        if isinstance(m.get("content"), str):
            return m["content"]
        for c in m.get("content") or []:
            if isinstance(c, dict) and "text" in c:
                return c["text"]
    return str(body.get("prompt") or body.get("inputText") or "")


class FakeAPIs(LocalServer):
    def __init__(self) -> None:
        outer = self
        self.requests: list[tuple[str, dict]] = []
        self.fault: str | None = None  # "bad-crc", "truncated": the next Bedrock stream only

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                outer.requests.append((self.path, body))
                path, _, query = self.path.partition("?")
                prompt = _last_text(body)
                if ":streamGenerateContent" in path:
                    return outer._gemini_stream(self, prompt, sse="alt=sse" in query)
                if ":generateContent" in path:
                    return self._json(_gemini_chunk(f"Echo: {prompt}", last=True))
                if ":countTokens" in path:
                    return self._json({"totalTokens": len(prompt.split())})
                if ":batchEmbedContents" in path:
                    return self._json({"embeddings": [{"values": [0.25, -0.5, 0.75]} for _ in body["requests"]]})
                if ":embedContent" in path:
                    return self._json({"embedding": {"values": [0.25, -0.5, 0.75]}})
                if path.endswith("/converse"):
                    return self._json({"output": {"message": {"role": "assistant", "content": [
                        {"text": f"Echo: {prompt}"}]}}, "stopReason": "end_turn",
                        "usage": {"inputTokens": 5, "outputTokens": 3, "totalTokens": 8},
                        "metrics": {"latencyMs": 12}})  # fmt: skip
                if path.endswith("/converse-stream"):
                    return outer._bedrock_stream(self, _converse_events(prompt))
                if path.endswith("/invoke-with-response-stream"):
                    return outer._bedrock_stream(self, _invoke_events(prompt))
                if path.endswith("/invoke"):
                    return self._json({"type": "message", "role": "assistant", "stop_reason": "end_turn",
                                       "content": [{"type": "text", "text": f"Echo: {prompt}"}]})  # fmt: skip
                self._json({"error": "unknown path"}, 404)

            def _json(self, doc: dict, status: int = 200) -> None:
                send_json(self, status, doc, "application/json; charset=UTF-8")

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)

    @staticmethod
    def _chunked(h: http.server.BaseHTTPRequestHandler, content_type: str, pieces: list[bytes]) -> None:
        h.send_response(200)
        h.send_header("content-type", content_type)
        h.send_header("transfer-encoding", "chunked")
        h.end_headers()
        for p in pieces:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            h.wfile.flush()
        h.wfile.write(b"0\r\n\r\n")

    def _gemini_stream(self, h: http.server.BaseHTTPRequestHandler, prompt: str, sse: bool) -> None:
        chunks = [json.dumps(_gemini_chunk(w, last=i == len(WORDS) - 1)).encode() for i, w in enumerate(WORDS)]
        if sse:
            self._chunked(h, "text/event-stream", [b"data: " + c + b"\r\n\r\n" for c in chunks])
        else:  # one JSON array, element by element, cut in odd places as the real API does
            body = b"[" + b",\r\n".join(chunks) + b"]"
            self._chunked(h, "application/json; charset=UTF-8", [body[i : i + 37] for i in range(0, len(body), 37)])

    def _bedrock_stream(self, h: http.server.BaseHTTPRequestHandler, events: list[tuple[str, dict]]) -> None:
        messages = [eventstream.frame(json.dumps(p).encode(), name) for name, p in events]
        fault, self.fault = self.fault, None
        if fault == "bad-crc":
            bad = bytearray(messages[2])
            bad[-6] ^= 0xFF
            messages[2] = bytes(bad)
        elif fault == "truncated":
            messages = [*messages[:2], messages[2][: len(messages[2]) // 2]]
        raw = b"".join(messages)
        # Split anywhere, UTF-8 sequences included: the parser must not care.
        self._chunked(h, "application/vnd.amazon.eventstream", [raw[i : i + 29] for i in range(0, len(raw), 29)])


def _gemini_chunk(text: str, last: bool) -> dict:
    cand: dict = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    doc: dict = {"candidates": [cand], "modelVersion": "gemini-2.0-flash", "responseId": "resp-1"}
    if last:
        cand["finishReason"] = "STOP"
        doc["usageMetadata"] = {"promptTokenCount": 5, "candidatesTokenCount": 6, "totalTokenCount": 11}
    return doc


def _converse_events(prompt: str) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}) for w in WORDS]
    events += [("contentBlockStop", {"contentBlockIndex": 0}), ("messageStop", {"stopReason": "end_turn"}),
               ("metadata", {"usage": {"inputTokens": len(prompt.split()), "outputTokens": 6, "totalTokens": 11},
                             "metrics": {"latencyMs": 20}})]  # fmt: skip
    return events


def _invoke_events(prompt: str) -> list[tuple[str, dict]]:
    inner = [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}} for w in WORDS]
    inner.append({"type": "message_stop"})
    return [("chunk", {"bytes": base64.b64encode(json.dumps(i).encode()).decode()}) for i in inner]
