import base64
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_vcr.redaction import _redact_pieces, may_contain, placeholder, redact, redact_text

# Canaries: shaped like real credentials, valid for nothing.
CANARIES = {
    "openai-key": "sk-proj-CANARYabcdefghijklmnopqrstuvwxyz0123456789",
    "anthropic-key": "sk-ant-api03-CANARYabcdefghijklmnopqrstuvwxyz0123",
    "aws-access-key": "AKIAIOSFODNN7CANARY1",
    "google-api-key": "AIzaSyCANARY-abcdefghijklmnopqrstuvwxy1",
    "github-token": "ghp_CANARYabcdefghijklmnopqrstuvwxyz0123456",
    "huggingface-token": "hf_CANARYabcdefghijklmnopqrstuvwxyz0123",
    "groq-key": "gsk_CANARYabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
    "xai-key": "xai-CANARYabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU",
    "replicate-token": "r8_CANARYabcdefghijklmnopqrstuvwxyz0123",
    "slack-token": "xoxb-1234567890-CANARYabcdef",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5",
    "bearer-token": "Bearer CANARYopaquetoken1234567890",
    "private-key": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAcanary0123456789abcdef\n-----END RSA PRIVATE KEY-----"
    ),
}
GITHUB_PAT = "github_pat_11CANARY0abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"

# Ordinary text that older key shapes took for keys: kept byte for byte.
NOT_SECRETS = [
    "risk-assessment-for-production-rollout",
    "see the risk-assessment-for-production-rollout-2024 document",
    "we use sk-learn-and-pandas-for-everything here",
    "The sky is blue; skip this; task-force; a bearer of news; eyJ is not a token",
    "ask-me-anything-about-the-weather-in-paris",
    "a hash: 3f786850e387550fdab836ed7e6dc881de23001b and a uuid 123e4567-e89b-12d3-a456-426614174000",
    "whisk-2024-edition-of-the-annual-report",
]


@pytest.mark.parametrize("kind", CANARIES)
def test_each_kind_is_found_and_replaced(kind):
    found: list[str] = []
    text = f"please use {CANARIES[kind]} for this"
    out = redact_text(text, found)
    assert found == [kind]
    assert out == f"please use {placeholder(kind, CANARIES[kind])} for this"
    assert "CANARY" not in out


def test_github_fine_grained_tokens():
    assert redact_text(f"t={GITHUB_PAT}") == f"t={placeholder('github-token', GITHUB_PAT)}"


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_ordinary_text_is_kept_byte_for_byte(text):
    found: list[str] = []
    assert redact_text(text, found) == text and found == []


def test_placeholders_are_stable_distinct_and_not_redacted_again():
    a, b = CANARIES["openai-key"], CANARIES["openai-key"] + "X"
    assert redact_text(a) == redact_text(a) != redact_text(b)
    assert placeholder("openai-key", a).startswith("REDACTED:openai-key:")
    assert redact_text(redact_text(f"x {a} y")) == redact_text(f"x {a} y")


def test_base64_and_percent_encoded_keys():
    key = CANARIES["openai-key"]
    for prefix in ("", "x", "xy"):  # every base64 alignment of the key
        encoded = base64.b64encode(f'{prefix}{{"api_key": "{key}"}}'.encode()).decode()
        out = redact_text(f"config {encoded} end")
        assert out.startswith("config REDACTED:openai-key-base64:") and out.endswith(" end"), prefix
    urlsafe = base64.urlsafe_b64encode(key.encode()).decode()
    assert "REDACTED:openai-key-base64:" in redact_text(urlsafe)
    assert quote(key, safe="") == key  # nothing to encode: found as a plain key
    for encoded in (key.replace("-", "%2D"), key.replace("-", "%2d")):
        assert redact_text(f"q={encoded}&x=1") == f"q={placeholder('openai-key-url-encoded', encoded)}&x=1"
    out = redact_text(f"q={quote(key + '/', safe='')}&x=1")
    assert out.startswith("q=REDACTED:openai-key") and out.endswith("&x=1") and "CANARY" not in out


def test_ordinary_base64_is_kept():
    data = base64.b64encode(b"just some harmless bytes, nothing secret here at all " * 20).decode()
    assert redact_text(data) == data


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
    assert body["messages"][0]["content"].startswith("key=sk-")  # the input is not modified


def test_a_key_split_across_streamed_deltas_is_redacted_in_each_piece():
    key = CANARIES["openai-key"]
    chunks = [{"choices": [{"delta": {"content": part}}]} for part in ("my key is sk-pr", key[5:20], key[20:] + " ok")]
    found: list[str] = []
    out = redact(chunks, found)
    assert found == ["openai-key"]
    text = "".join(c["choices"][0]["delta"]["content"] for c in out)
    assert text == f"my key is {placeholder('openai-key', key)} ok"
    assert out[1]["choices"][0]["delta"]["content"] == ""  # the middle piece held only key characters


def test_a_key_split_across_two_messages():
    key = CANARIES["anthropic-key"]
    body = {"messages": [{"role": "user", "content": "here: " + key[:15]}, {"role": "user", "content": key[15:]}]}
    out = redact(body)
    assert out["messages"][0]["content"] == "here: " + placeholder("anthropic-key", key)
    assert out["messages"][1]["content"] == ""


def test_pieces_of_different_fields_are_never_joined():
    # "sk-" ending a message's id and a random-looking content must not form a key together.
    body = {"id": "abc sk-", "content": "AbCdEfGh1234567890abcdefgh"}
    assert redact(body) == body


KEY_TEXT = st.sampled_from(list(CANARIES.values()) + NOT_SECRETS + [GITHUB_PAT])


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(alphabet=" .,:;\nabcXYZ019", max_size=20),
    middle=KEY_TEXT,
    after=st.text(alphabet=" .,:;\nabcXYZ", max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_any_split_redacts_like_the_whole_text(before, middle, after, cuts):
    text = f"{before} {middle} {after}"
    # Cuts inside a word are left out: a piece that starts inside a word may start a key (next test).
    points = sorted({c for c in cuts if 0 < c < len(text) and not (text[c - 1].isalnum() and text[c].isalnum())})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert "".join(_redact_pieces(pieces, None)) == redact_text(text)


def test_a_piece_that_starts_with_a_key_is_redacted_even_after_a_letter():
    # A key sent as its own message (or delta) right after text that ends in a letter still leaks if the
    # joined text is read as one word; so a piece start counts as a word start. The price, chosen: a
    # word split by the stream right before a key-shaped rest ("whi" + "sk-2024-edition…") is redacted too.
    key = CANARIES["openai-key"]
    out = _redact_pieces(["my key is", key], None)
    assert out[0] == "my key is" and key not in "".join(out)


def test_the_raw_pre_check_agrees_with_the_scanner():
    for kind, canary in CANARIES.items():
        assert may_contain(f'{{"content": "{canary}"}}'.encode()), kind
    assert may_contain(CANARIES["openai-key"].replace("-", "%2D").encode())
    assert not may_contain(b'{"content": "The sky is blue; skip this; a task for tomorrow"}')


def test_hostile_nesting_is_a_clear_error():
    deep: object = "x"
    for _ in range(500):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        redact(deep)
