from llm_vcr.apis import CHAT, EMBEDDINGS, MODELS
from llm_vcr.matching.keys import KEY_LENGTH, canonical, differences, request_key, wire_body

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.0, "top_p": 1.0}


def test_key_ignores_key_order_and_integral_float_form():
    node_style = {"top_p": 1, "temperature": 0, "messages": [{"content": "hi", "role": "user"}], "model": "m"}
    assert request_key("POST", CHAT, BODY) == request_key("post", CHAT, node_style)


def test_key_depends_on_values_resource_and_method():
    base = request_key("POST", CHAT, BODY)
    assert len(base) == KEY_LENGTH
    assert request_key("POST", CHAT, {**BODY, "temperature": 0.5}) != base
    assert request_key("POST", EMBEDDINGS, BODY) != base
    assert request_key("PUT", CHAT, BODY) != base


def test_key_keeps_true_distinct_from_one_and_strings_from_numbers():
    assert request_key("POST", CHAT, {"a": True}) != request_key("POST", CHAT, {"a": 1})
    assert request_key("POST", CHAT, {"a": "1"}) != request_key("POST", CHAT, {"a": 1})


def test_models_has_one_key_whatever_the_method_or_body():
    assert request_key("GET", MODELS, None) == request_key("POST", MODELS, {})


def test_canonical():
    assert canonical({"b": [1.0, 2.5], "a": {"y": 0.0, "x": None}}) == {"a": {"x": None, "y": 0}, "b": [1, 2.5]}
    assert list(canonical({"b": 1, "a": 2})) == ["a", "b"]


def test_wire_body_merges_extra_body_and_drops_extra_query():
    stored = {"model": "m", "extra_body": {"guided_choice": ["a"]}, "extra_query": {"project_id": "p"}}
    assert wire_body(stored) == {"model": "m", "guided_choice": ["a"]}
    assert wire_body(BODY) is BODY


def test_differences_name_the_paths():
    want = canonical({"messages": [{"role": "user", "content": "hi"}], "n": 1, "extra": True})
    have = canonical({"messages": [{"role": "user", "content": "ho"}], "n": 1, "stream": True})
    assert differences(want, have) == [
        "extra (only in request)",
        'messages[0].content (request "hi", recording "ho")',
        "stream (only in recording)",
    ]
    # values are cut to 40 characters of JSON: the opening quote and 38 x, then an ellipsis
    assert differences({"t": 0.5}, {"t": "x" * 60}) == ['t (request 0.5, recording "' + "x" * 38 + "…)"]
    assert differences(want, want) == []
    assert differences([1, 2], [1]) == ["(body) (length 2 in request, 1 in recording)"]
    assert len(differences({str(i): i for i in range(20)}, {}, limit=5)) == 5
