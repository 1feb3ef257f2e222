import pytest

from llm_vcr.apis import CHAT, MODELS, openai
from llm_vcr.bodies import request_json as request_body
from llm_vcr.capture import StreamCapture, json_recording, stream_recording

REQ = {"model": "m", "messages": [], "stream": True}
CHUNKS = [
    b'data: {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "Hel"}}]}\n\n',
    b'data: {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "lo"}}]}\n\n',
    b"data: [DONE]\n\n",
]


def capture(*reads: bytes) -> StreamCapture:
    cap = StreamCapture()
    for r in reads:
        cap.feed(r)
    return cap


def rec_of(cap, broken=None):
    cap.finish()
    return stream_recording(
        method="POST", url="http://h/v1/chat/completions", body=REQ, resource=CHAT, capture=cap, broken=broken
    )


def test_complete_stream_becomes_typed_envelopes():
    rec = rec_of(capture(*CHUNKS))
    assert rec.partial is None
    assert [e["__type__"] for e in rec.response_body] == [openai.CHAT_COMPLETION_CHUNK] * 2
    assert rec.chunks[1] == {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "lo"}}]}


def test_done_seen_makes_it_complete_even_if_the_client_hung_up():
    assert rec_of(capture(*CHUNKS), broken="Client disconnected.").partial is None


def test_stream_cut_before_done_is_partial_with_the_reason():
    rec = rec_of(capture(CHUNKS[0], CHUNKS[1][:20]), broken="Server disconnected.")
    assert "before data: [DONE]" in rec.partial and "Server disconnected." in rec.partial


def test_non_json_event_is_partial_and_kept():
    rec = rec_of(capture(CHUNKS[0], b"data: <html>oops\n\n", CHUNKS[2]))
    assert rec.partial.startswith("event 1 is not JSON")
    assert rec.chunks[1] == "<html>oops"


def test_encoded_stream_is_parsed_from_the_decoded_body():
    cap = StreamCapture(encoded=True)
    cap.feed(b"\x1f\x8b garbage that is not SSE")
    cap.finish(decoded=b"".join(CHUNKS))
    rec = stream_recording(method="POST", url="u", body=REQ, resource=CHAT, capture=cap, broken=None)
    assert rec.partial is None and len(rec.chunks) == 2


def test_json_answer_and_models_list():
    rec = json_recording(
        method="GET",
        url="http://h/v1/models",
        body=None,
        resource=MODELS,
        status=200,
        content=b'{"object":"list","data":[{"id":"a","object":"model"}]}',
        headers={},
    )
    assert rec.response_body == [{"__type__": openai.MODEL, "__data__": {"id": "a", "object": "model"}}]


def test_error_answer_keeps_status_body_and_retry_headers_only():
    rec = json_recording(
        method="POST",
        url="u",
        body=REQ,
        resource=CHAT,
        status=429,
        content=b'{"error":{}}',
        headers={"Retry-After": "2", "x-ratelimit-remaining-requests": "0", "set-cookie": "s"},
    )
    assert rec.status == 429 and rec.chunks == [{"error": {}}]
    assert rec.response_headers == {"Retry-After": "2", "x-ratelimit-remaining-requests": "0"}


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe"])
def test_request_body_errors_say_why(content):
    with pytest.raises(ValueError, match="not valid JSON"):
        request_body(content)


def test_head_is_a_bounded_prefix_of_the_body():
    cap = StreamCapture()
    for piece in (b"data: a\n\n", b"data: bb\n\n", b"data: [DONE]\n\n"):
        cap.feed(piece)
    assert cap.head(10**6) == (cap.body, False)
    assert cap.head(len(cap.body)) == (cap.body, False)
    for limit in range(len(cap.body)):
        assert cap.head(limit) == (cap.body[:limit], True)
