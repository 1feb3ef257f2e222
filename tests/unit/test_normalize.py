import uuid

import pytest

from llm_vcr.apis import CHAT, MESSAGES, OLLAMA_CHAT, RESPONSES
from llm_vcr.matching.keys import canonical, request_key
from llm_vcr.matching.normalize import DEFAULT, Path, RuleError, Rules, normalize, parse_replacement

BASE = {"model": "m", "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
OFF = Rules(builtin=False)


def key(body, resource=CHAT, rules=DEFAULT):
    return request_key("POST", resource, body, rules)


def test_stream_false_equals_absent_but_not_for_ollama():
    assert key({**BASE, "stream": False}) == key(BASE) != key({**BASE, "stream": True})
    assert key({**BASE, "stream": False}, MESSAGES) == key(BASE, MESSAGES)
    assert key({**BASE, "stream": False}, OLLAMA_CHAT) != key(BASE, OLLAMA_CHAT)  # Ollama streams by default
    assert key({**BASE, "stream": False}, rules=OFF) != key(BASE, rules=OFF)


def test_generated_prompt_cache_keys_are_reduced_to_their_shape():
    a = {**BASE, "prompt_cache_key": f"agents-sdk:run:{uuid.uuid4().hex}"}
    b = {**BASE, "prompt_cache_key": f"agents-sdk:run:{uuid.uuid4().hex}"}
    assert key(a) == key(b) != key(BASE)
    assert key({**BASE, "prompt_cache_key": "my-app"}) != key({**BASE, "prompt_cache_key": "other-app"})


def test_session_uuids_in_metadata_user_id():
    def body():
        return {**BASE, "metadata": {"user_id": f"user_abc_account__session_{uuid.uuid4()}"}}

    assert key(body()) == key(body())
    assert key({**BASE, "metadata": {"user_id": "alice"}}) != key({**BASE, "metadata": {"user_id": "bob"}})


def test_responses_include_is_a_set():
    a = {**BASE, "include": ["reasoning.encrypted_content", "message.output_text.logprobs"]}
    b = {**BASE, "include": ["message.output_text.logprobs", "reasoning.encrypted_content"]}
    assert key(a, RESPONSES) == key(b, RESPONSES)
    assert key(a, CHAT) != key(b, CHAT)  # only where the API says it is a set


def test_answer_changing_fields_stay_in_the_key():
    for extra in ({"tool_choice": "auto"}, {"stream_options": {"include_usage": True}}, {"parallel_tool_calls": False}):
        assert key({**BASE, **extra}) != key(BASE), extra


def turn(ids: list[str], results_order: list[int]) -> dict:
    """Two parallel tool calls, then their results in `results_order` (interleaved on purpose)."""
    calls = [{"id": i, "type": "function", "function": {"name": f"f{n}", "arguments": "{}"}} for n, i in enumerate(ids)]
    results = [{"role": "tool", "tool_call_id": ids[n], "content": f"result {n}"} for n in results_order]
    return {**BASE, "messages": [*BASE["messages"], {"role": "assistant", "tool_calls": calls}, *results]}


def test_client_generated_tool_call_ids_are_numbered_consistently():
    run1 = [f"pyd_ai_{uuid.uuid4().hex}", f"pyd_ai_{uuid.uuid4().hex}"]
    run2 = [f"pyd_ai_{uuid.uuid4().hex}", f"pyd_ai_{uuid.uuid4().hex}"]
    assert key(turn(run1, [1, 0])) == key(turn(run2, [1, 0]))
    # Which result answers which call still matters: the structure is kept, only names are numbered.
    assert key(turn(run1, [1, 0])) != key(turn(run2, [0, 1]))
    norm = normalize("openai", "chat/completions", canonical(turn(run1, [1, 0])), DEFAULT)
    assert [c["id"] for c in norm["messages"][1]["tool_calls"]] == ["<id-1>", "<id-2>"]
    assert [m["tool_call_id"] for m in norm["messages"][2:]] == ["<id-2>", "<id-1>"]


def test_server_ids_still_match_as_the_same_conversation():
    served = ["call_abc123", "call_def456"]  # what a recording served comes back the same in replay
    assert key(turn(served, [0, 1])) == key(turn(list(served), [0, 1]))


def test_anthropic_and_responses_tool_ids_and_uuids_anywhere():
    def anthropic(tid):
        return {"model": "c", "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": tid, "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": "ok"}]}]}  # fmt: skip

    assert key(anthropic("toolu_1"), MESSAGES) == key(anthropic("toolu_2"), MESSAGES)

    def responses(cid):
        return {"model": "m", "input": [{"type": "function_call", "call_id": cid, "name": "f", "arguments": "{}"},
                                        {"type": "function_call_output", "call_id": cid, "output": "ok"}]}  # fmt: skip

    assert key(responses("call_1"), RESPONSES) == key(responses("call_2"), RESPONSES)
    assert key({**BASE, "user": str(uuid.uuid4())}) == key({**BASE, "user": str(uuid.uuid4())})


def test_user_rules_ignore_paths_and_replace_strings():
    rules = Rules.build(ignore=["metadata.request_id", "messages[role=system]"],
                        normalize=[r"|\d{4}-\d\d-\d\dT[\d:.]+Z?|<time>"])  # fmt: skip
    a = {**BASE, "metadata": {"request_id": "r1", "team": "x"},
         "messages": [{"role": "system", "content": "today is 2026-12-04T10:00:00Z"}, *BASE["messages"]]}  # fmt: skip
    b = {**BASE, "metadata": {"request_id": "r2", "team": "x"},
         "messages": [{"role": "system", "content": "other"}, *BASE["messages"]]}  # fmt: skip
    assert key(a, rules=rules) == key(b, rules=rules) and key(a) != key(b)
    stamp = Rules.build(normalize=[r"|\d{4}-\d\d-\d\dT[\d:.]+Z?|<time>"])
    assert key({**BASE, "note": "at 2026-12-04T10:00:00Z"}, rules=stamp) == key(
        {**BASE, "note": "at 2027-01-01T00:00:00.5Z"}, rules=stamp
    )
    assert rules.fingerprint != DEFAULT.fingerprint


def test_rules_are_validated():
    with pytest.raises(RuleError, match="not a JSON path"):
        Path.parse("messages[")
    with pytest.raises(RuleError, match="not a regular expression"):
        parse_replacement("|([|x")
    with pytest.raises(RuleError, match="regex"):
        parse_replacement("nope")
    assert parse_replacement(("a+", "b"))[1] == "b"


def test_the_input_body_is_never_changed():
    body = turn(["x1", "x2"], [0, 1])
    before = repr(body)
    key(body, rules=Rules.build(ignore=["messages[*].content"]))
    assert repr(body) == before
