import json
from pathlib import Path

import orjson
import pytest

from llm_vcr.apis import CHAT, EMBEDDINGS, MODELS, envelopes
from llm_vcr.framings import sse
from llm_vcr.store.recording import Recording, RecordingError, redact_url

SEED = Path(__file__).resolve().parents[2] / "recordings" / "000_9ef55b3285e76bff.json"


def seed_doc():
    return json.loads(SEED.read_text())


def test_seed_loads_as_a_streaming_chat():
    rec = Recording.from_json(seed_doc())
    assert rec.resource is CHAT and rec.is_streaming and rec.partial is None
    assert rec.model == "meta-llama/Llama-3.2-1B-Instruct"
    assert len(rec.chunks) == len(seed_doc()["response"]["body"])


def test_seed_replays_as_sse_with_each_chunk_verbatim_and_done():
    doc = seed_doc()
    rec = Recording.from_json(doc)
    events = sse.parse(rec.replay.body)
    assert rec.replay.content_type.startswith("text/event-stream")
    assert events[-1].is_done
    assert [json.loads(e.data) for e in events[:-1]] == [c["__data__"] for c in doc["response"]["body"]]
    # field order is the server's, not sorted
    assert list(json.loads(events[0].data)) == list(doc["response"]["body"][0]["__data__"])


def test_written_file_follows_the_seed_shape_and_round_trips():
    body = {"model": "m", "input": "hello"}
    data = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.0]}], "model": "m"}
    rec = Recording.new(
        method="post",
        url="http://h/v1/embeddings",
        body=body,
        resource=EMBEDDINGS,
        is_streaming=False,
        response_body=envelopes.json_body(EMBEDDINGS, data),
    )
    doc = orjson.loads(rec.dumps())
    assert doc["request"] == {
        "method": "POST",
        "url": "http://h/v1/embeddings",
        "headers": {},
        "body": body,
        "endpoint": "/v1/embeddings",
        "model": "m",
    }
    assert doc["response"] == {
        "body": {"__type__": "openai.types.create_embedding_response.CreateEmbeddingResponse", "__data__": data},
        "is_streaming": False,
    }
    again = Recording.from_json(doc)
    assert again.key == rec.key
    assert orjson.loads(again.replay.body) == data
    assert rec.dumps().endswith(b"}\n") and b'\n  "request"' in rec.dumps()  # pretty, newline-terminated


def test_models_recordings_replay_as_a_list_object():
    doc = {
        "request": {
            "method": "POST",
            "url": "http://x/v1/v1/models",
            "headers": {},
            "body": {},
            "endpoint": "/v1/models",
        },
        "response": {
            "body": [{"__type__": "openai.types.model.Model", "__data__": {"id": "a", "object": "model"}}],
            "is_streaming": False,
        },
    }
    rec = Recording.from_json(doc)
    assert rec.resource is MODELS and rec.method == "GET"
    assert orjson.loads(rec.replay.body) == {"object": "list", "data": [{"id": "a", "object": "model"}]}


def test_recorded_exception_is_served_as_an_openai_error():
    doc = seed_doc()
    doc["response"] = {
        "body": None,
        "is_streaming": False,
        "is_exception": True,
        "exception_data": {"status_code": 400, "body": {"message": "bad", "type": "invalid"}},
    }
    rec = Recording.from_json(doc)
    assert rec.replay.status == 400
    assert orjson.loads(rec.replay.body) == {"error": {"message": "bad", "type": "invalid"}}


def test_error_answer_keeps_status_and_retry_headers():
    doc = seed_doc()
    doc["response"] = {
        "body": {"__type__": envelopes.GENERIC, "__data__": "slow down"},
        "is_streaming": False,
        "status": 429,
        "headers": {"Content-Type": "text/plain", "retry-after": "1"},
    }
    rep = Recording.from_json(doc).replay
    assert (rep.status, rep.content_type, rep.body, rep.headers) == (
        429,
        "text/plain",
        b"slow down",
        {"retry-after": "1"},
    )


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "not a JSON object"),
        ({"request": {}}, '"request" or "response"'),
        ({"request": {"url": 3}, "response": {}}, "request.url"),
        ({"request": {"url": "http://h/v1/chat/completions", "body": "x"}, "response": {}}, "not a JSON object"),
        (
            {
                "request": {"url": "http://h/v1/chat/completions", "body": {}},
                "response": {"is_streaming": True, "body": {}},
            },
            "list of chunks",
        ),
        (
            {
                "request": {"url": "http://h/v1/chat/completions", "body": {}},
                "response": {"is_streaming": True, "body": [{"__type__": "t", "__data__": 3}]},
            },
            "chunk 0",
        ),
    ],
)
def test_bad_documents_are_rejected_with_a_reason(doc, reason):
    with pytest.raises(RecordingError, match=reason.replace("(", r"\(").replace('"', '"')):
        Recording.from_json(doc)


def test_legacy_completions_label_with_messages_is_a_chat_call():
    doc = seed_doc()
    doc["request"]["url"] = "http://localhost:8000/v1/v1/completions"
    doc["request"]["endpoint"] = "/v1/completions"
    assert Recording.from_json(doc).resource is CHAT


def test_credentials_in_query_strings_are_redacted():
    url = "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key=sk-123"
    assert redact_url(url) == (
        "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key=REDACTED"
    )
    assert redact_url("http://h/v1/models") == "http://h/v1/models"
