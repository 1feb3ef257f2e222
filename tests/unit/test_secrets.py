import pytest

from llm_vcr.redaction import may_contain, placeholder, redact, redact_text

# Canaries: shaped like real credentials, valid for nothing.
CANARIES = {
    "openai-key": "sk-proj-CANARYabcdefghijklmnopqrstuvwxyz0123456789",
    "anthropic-key": "sk-ant-api03-CANARYabcdefghijklmnopqrstuvwxyz",
    "aws-access-key": "AKIAIOSFODNN7CANARY1",
    "google-api-key": "AIzaSyCANARY-abcdefghijklmnopqrstuvwxy1",
    "github-token": "ghp_CANARYabcdefghijklmnopqrstuvwxyz0123456",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5",
    "bearer-token": "Bearer CANARYopaquetoken1234567890",
}


@pytest.mark.parametrize("kind", CANARIES)
def test_each_kind_is_found_and_replaced(kind):
    found: list[str] = []
    text = f"please use {CANARIES[kind]} for this"
    out = redact_text(text, found)
    assert found == [kind]
    assert out == f"please use {placeholder(kind, CANARIES[kind])} for this"
    assert "CANARY" not in out


def test_placeholders_are_stable_and_distinct():
    a, b = CANARIES["openai-key"], CANARIES["openai-key"] + "X"
    assert redact_text(a) == redact_text(a) != redact_text(b)
    assert placeholder("openai-key", a).startswith("REDACTED:openai-key:")


def test_json_values_and_keys_are_redacted_deeply_and_clean_values_kept():
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": f"key={CANARIES['openai-key']}"}],
        "extra": {CANARIES["aws-access-key"]: 1},
        "n": 2,
    }
    found: list[str] = []
    out = redact(body, found)
    assert sorted(found) == ["aws-access-key", "openai-key"]
    assert "CANARY" not in str(out) and out["model"] == "m" and out["n"] == 2


def test_ordinary_text_is_untouched():
    text = "The sky is blue; skip this; task-force; a bearer of news; eyJ is not a token"
    assert redact_text(text) == text


def test_the_raw_pre_check_agrees_with_the_scanner():
    for kind, canary in CANARIES.items():
        assert may_contain(f'{{"content": "{canary}"}}'.encode()), kind
    assert not may_contain(b'{"content": "The sky is blue; skip this; a bearer of news"}')
