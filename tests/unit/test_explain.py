import io

import orjson

from llm_vcr.apis import CHAT, openai
from llm_vcr.cli.recordings import cmd_show, cmd_verify
from llm_vcr.matching.explain import explain, window
from llm_vcr.matching.misses import miss, summary
from llm_vcr.store import RecordingStore, missed
from llm_vcr.store.recording import Recording

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
LONG = "What is the weather in Paris? Use the get_weather tool and answer in one short sentence please."


def conversation(result: str, tool_schema=WEATHER, model="m", first=LONG) -> dict:
    return {
        "model": model,
        "tools": [tool_schema],
        "messages": [
            {"role": "user", "content": first},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                                  "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": result},
        ],
    }  # fmt: skip


def rec(body: dict, text: str = "ok") -> Recording:
    data = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"content": text}}]}
    envelope = {"__type__": openai.CHAT_COMPLETION, "__data__": data}
    return Recording.new(method="POST", url="http://h/v1/chat/completions", body=body, resource=CHAT,
                         is_streaming=False, response_body=envelope)  # fmt: skip


def test_a_late_difference_is_shown_around_the_first_differing_character():
    other = LONG.replace("get_weather tool", "tool")
    i = LONG.index("get_weather")  # the first differing character
    a, b = window(LONG, other)
    assert a == f'"…{LONG[i - 30 : i]}[g]{LONG[i + 1 : i + 31]}…"' and a.count("Paris? Use the ") == 1
    assert b == f'"…{other[i - 30 : i]}[t]{other[i + 1 : i + 31]}…"'
    assert window("abc", "abcd") == ('"abc[end]"', '"abc[d]"')


def test_the_first_differing_turn_is_named_in_words():
    e = explain(conversation("sunny"), conversation("rainy"))
    assert e.summary == "turn 3 (tool result for get_weather): content differs"
    assert e.lines == ['request   "[s]unny"', 'recording "[r]ainy"']
    longer = conversation("sunny")
    longer["messages"].append({"role": "user", "content": "thanks"})
    assert explain(longer, conversation("sunny")).summary.endswith("turn 4 (user) is new")
    tools = explain(conversation("x"), conversation("x", {**WEATHER, "function": {"name": "get_weather"}}))
    assert tools.summary.startswith("the tools differ at tools[0].function.parameters")


def test_the_nearest_recording_agrees_longest_on_the_conversation(tmp_path):
    store = RecordingStore(tmp_path)
    # Fewer differing fields, but a different conversation: the old "fewest paths" pick.
    store.write(rec({"model": "m", "tools": [WEATHER], "messages": [{"role": "user", "content": "Say hello."}]}))
    # Same conversation, slightly different tool schema: the right pick.
    same = store.write(rec(conversation("sunny", {**WEATHER, "function": {**WEATHER["function"], "strict": True}})))
    store.load()
    near = store.nearest(CHAT, conversation("sunny"))
    assert near.path == same and near.turns_agreeing == 3 and near.same_model
    assert near.explanation.summary.startswith("the tools differ at tools[0].function.strict")


def test_a_miss_whose_recording_is_only_partial_says_so(tmp_path):
    store = RecordingStore(tmp_path)
    cut = rec(conversation("sunny"))
    cut.partial = "the stream ended before data: [DONE] (Client disconnected.)"
    path = store.write(cut)
    store.load()
    assert store.partial_of(cut.key) == [path]
    answer = miss("POST", CHAT, cut.key, tmp_path, store.nearest(CHAT, conversation("sunny")), [(path, cut.partial)])
    assert "only partially" in answer.message and "Client disconnected" in answer.message
    assert "never replayed" in answer.message


def test_show_explains_a_key_from_a_miss(tmp_path):
    store = RecordingStore(tmp_path)
    store.write(rec(conversation("rainy")))
    store.load()
    want = conversation("sunny")
    key = rec(want).key
    missed.save(tmp_path, key, "POST", "chat/completions", want)
    out = io.StringIO()
    assert cmd_show(key, tmp_path, out) == 0
    text = out.getvalue()
    assert f"== {key}: a request that missed" in text and "turn 3 (tool result for get_weather)" in text
    assert '"[s]unny"' in text and '"[r]ainy"' in text


def test_verify_warns_when_rules_key_different_requests_alike(tmp_path):
    store = RecordingStore(tmp_path)
    store.write(rec({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": False}, "one"))
    store.write(rec({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "two"))
    out = io.StringIO()
    assert cmd_verify(tmp_path, out) == 0
    assert "warning:" in out.getvalue() and "one key" in out.getvalue()


def test_the_miss_body_carries_the_summary():
    answer = miss("POST", CHAT, "k" * 16, __import__("pathlib").Path("."), None)
    assert orjson.loads(answer.body)["error"]["request_key"] == "k" * 16


def test_a_runs_misses_list_each_key_once_and_unkeyed_requests_apart():
    keys = ["aaaa", "bbbb", "aaaa", "aaaa", "bbbb"]
    assert summary(7, keys) == "aaaa (x3), bbbb (x2), 2 requests that could not be keyed (see the log)"
    assert summary(1, ["cccc"]) == "cccc"
    many = [f"{i:04x}" for i in range(12)]
    assert summary(12, many, most=10).endswith("0009, and 2 more keys")
