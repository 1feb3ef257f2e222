import json

from llm_vcr.apis import CHAT, EMBEDDINGS, MESSAGES, MODELS, OLLAMA_CHAT, RESPONSES
from llm_vcr.assemble import assemble, render

from ..e2e.wire import TEXT, anthropic_stream_lines, ollama_chat_lines, responses_events


def chat_chunk(**delta):
    return {"model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_openai_stream_merges_tool_calls_even_when_the_server_repeats_names():
    def tc(args):
        return {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": args},
        }

    chunks = [
        chat_chunk(role="assistant"),
        chat_chunk(tool_calls=[tc('{"ci')]),
        chat_chunk(tool_calls=[tc('ty": "Paris"}')]),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}},
    ]
    ans = assemble(CHAT, chunks, streaming=True)
    assert [(c.name, c.parsed_arguments(), c.id) for c in ans.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "call_1")
    ]
    assert (ans.finish_reason, ans.total_tokens, ans.chunks) == ("tool_calls", 12, 5)
    out = render(ans, streaming=True)
    assert "tool call: get_weather" in out and '"city": "Paris"' in out and "finish reason: tool_calls" in out


def test_openai_body():
    body = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"total_tokens": 3},
    }
    ans = assemble(CHAT, [body], streaming=False)
    assert (ans.text, ans.finish_reason, ans.total_tokens, ans.chunks) == ("Hi", "stop", 3, 0)


def test_responses_stream():
    ans = assemble(RESPONSES, [d for _, d in responses_events()], streaming=True)
    assert ans.text == "".join(TEXT) and ans.finish_reason == "completed" and ans.total_tokens == 9


def test_anthropic_stream():
    from llm_vcr.framings import sse

    events = sse.parse("\n".join(anthropic_stream_lines()).encode() + b"\n")
    ans = assemble(MESSAGES, [json.loads(e.data) for e in events], streaming=True)
    assert ans.text.startswith("1") and ans.finish_reason == "end_turn" and ans.usage["output_tokens"] == 64


def test_ollama_stream():
    ans = assemble(OLLAMA_CHAT, ollama_chat_lines(), streaming=True)
    assert ans.text == "".join(TEXT) and ans.finish_reason == "stop" and ans.total_tokens == 4


def test_embeddings_and_models():
    emb = assemble(EMBEDDINGS, [{"data": [{"embedding": [0.1, 0.2]}, {"embedding": [0.3, 0.4]}]}], streaming=False)
    assert emb.other == {"vectors": 2, "dimensions": [2]}
    models = assemble(MODELS, [{"id": "a"}, {"id": "b"}], streaming=False)
    assert models.other == {"models": ["a", "b"]}
