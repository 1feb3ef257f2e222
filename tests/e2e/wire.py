"""Exact wire formats of APIs the test engine does not serve: OpenAI Responses, Anthropic Messages
(from a real recording in the corpus), Ollama native. Used by a scripted upstream."""

from __future__ import annotations

import json

from ..conftest import CORPUS

TEXT = ["Hel", "lo", " there", "!"]


def _sse(event: str, data: dict, crlf: bool = False, multiline: bool = False) -> bytes:
    nl = "\r\n" if crlf else "\n"
    payload = json.dumps(data, indent=1) if multiline else json.dumps(data)
    lines = "".join(f"data: {line}{nl}" for line in payload.split("\n"))
    return f"event: {event}{nl}{lines}{nl}".encode()


def responses_events() -> list[tuple[str, dict]]:
    resp = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "in_progress",
        "model": "gpt-4o-mini",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "usage": None,
    }
    item = {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    ev = [
        ("response.created", {"response": resp}),
        ("response.in_progress", {"response": resp}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
        (
            "response.content_part.added",
            {
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
        ),
    ]
    ev += [
        (
            "response.output_text.delta",
            {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d, "logprobs": []},
        )
        for d in TEXT
    ]
    ev.append(("response.vendor_extension", {"note": "an event type no table knows"}))
    done_part = {"type": "output_text", "text": "".join(TEXT), "annotations": []}
    done_item = {**item, "status": "completed", "content": [done_part]}
    ev += [
        (
            "response.output_text.done",
            {"item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "".join(TEXT), "logprobs": []},
        ),
        ("response.content_part.done", {"item_id": "msg_1", "output_index": 0, "content_index": 0, "part": done_part}),
        ("response.output_item.done", {"output_index": 0, "item": done_item}),
        (
            "response.completed",
            {
                "response": {
                    **resp,
                    "status": "completed",
                    "output": [done_item],
                    "usage": {
                        "input_tokens": 5,
                        "output_tokens": 4,
                        "total_tokens": 9,
                        "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens_details": {"reasoning_tokens": 0},
                    },
                }
            },
        ),
    ]
    return [(name, {"type": name, "sequence_number": i, **data}) for i, (name, data) in enumerate(ev)]


def responses_stream(cut_before_end: bool = False) -> bytes:
    """With \\r\\n endings, a keep-alive comment, one multi-line data: and no final blank line."""
    events = responses_events()[:-1] if cut_before_end else responses_events()
    out = b": keep-alive\r\n\r\n"
    for i, (name, data) in enumerate(events):
        out += _sse(name, data, crlf=True, multiline=i == 2)
    return out if cut_before_end else out[:-2]  # the last event ends without its blank line


def responses_json() -> dict:
    return responses_events()[-1][1]["response"]


def anthropic_stream_lines() -> list[str]:
    path = next(CORPUS.glob("ogx-2026-anthropic/messages/recordings/f22657bf*.json"))
    return json.loads(path.read_text())["response"]["body"]


def anthropic_stream() -> bytes:
    lines = anthropic_stream_lines()
    # A real Anthropic stream also sends pings: they must replay as events but are not the answer.
    return ('event: ping\ndata: {"type": "ping"}\n\n' + "\n".join(lines) + "\n").encode()


def ollama_chat_lines(done: bool = True) -> list[dict]:
    base = {"model": "llama3.2", "created_at": "2026-01-01T00:00:00Z"}
    lines = [{**base, "message": {"role": "assistant", "content": t}, "done": False} for t in TEXT]
    if done:
        lines.append(
            {
                **base,
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1000,
                "eval_count": 4,
            }
        )
    return lines


def ndjson(objs: list[dict]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)
