"""The llama-stack / OGX corpus (both layouts): every file loads, every OpenAI-path one replays."""

import json

import orjson
import pytest
from openai.types import Completion, CompletionChoice, CreateEmbeddingResponse, Embedding, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.chat_completion import Choice as ChatChoice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice

from llm_vcr.apis import CHAT, COMPLETIONS, EMBEDDINGS, MODELS
from llm_vcr.framings import sse
from llm_vcr.store import RecordingStore, read_file
from llm_vcr.store.recording import Recording

from ..conftest import CORPUS

INDEX = json.loads((CORPUS / "index.json").read_text())["files"]
OPENAI_ENDPOINTS = ("/v1/chat/completions", "/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models")
OTHER_ENDPOINTS = ("/v1/messages", "/api/generate", "/api/tags", "/api/embeddings")
UNSUPPORTED = ("/api/ps", "/api/pull")  # Ollama's process and pull APIs: loaded, not served


def test_the_corpus_is_all_there():
    assert len(INDEX) == 136 == len(list(CORPUS.rglob("ogx-*/**/*.json")))


def test_every_file_loads_and_every_openai_file_is_indexed():
    report = RecordingStore(CORPUS).load()
    assert [(p.name, r) for p, r in report.skipped] == [("index.json", 'missing the "request" or "response" object')]
    served = [f for f in INDEX if f["endpoint"] in OPENAI_ENDPOINTS + OTHER_ENDPOINTS]
    assert report.loaded == len(served)
    assert report.other_apis == len([f for f in INDEX if f["endpoint"] in UNSUPPORTED]) == len(INDEX) - len(served)


@pytest.mark.parametrize("entry", INDEX, ids=[f["path"] for f in INDEX])
def test_each_openai_recording_replays_and_parses_with_the_sdk_types(entry):
    # `construct` is how the SDK itself builds responses: lenient with provider quirks such as
    # `"object": ""` or `"created": null` (strict validation would reject real traffic).
    rec = read_file(CORPUS / entry["path"])
    if entry["endpoint"] in UNSUPPORTED:
        assert rec.key is None  # loads without error; not replayed by this version
        return
    if entry["endpoint"] in OTHER_ENDPOINTS:
        check_other_api(entry, rec)
        return
    assert rec.key is not None
    rep = rec.replay
    if entry["is_exception"]:
        assert rep.status == rec.raw["response"]["exception_data"]["status_code"]
        assert "message" in orjson.loads(rep.body)["error"]
        return
    assert rep.status == 200
    if rec.resource is MODELS:
        payload = orjson.loads(rep.body)
        assert payload["object"] == "list"
        assert all(Model.construct(**m).id == m["id"] for m in payload["data"])
        return
    if rec.is_streaming:
        events = sse.parse(rep.body)
        assert events[-1].is_done and len(events) - 1 == entry["chunk_count"]
        for ev in events[:-1]:
            data = json.loads(ev.data)
            if data.get("object") == "chat.completion.chunk":
                chunk = ChatCompletionChunk.construct(**data)
                assert all(isinstance(c, ChunkChoice) for c in chunk.choices)
            else:
                assert all(isinstance(c, CompletionChoice) for c in Completion.construct(**data).choices)
        return
    data = orjson.loads(rep.body)
    if rec.resource is EMBEDDINGS:
        resp = CreateEmbeddingResponse.construct(**data)
        assert all(isinstance(e, Embedding) and len(e.embedding) > 0 for e in resp.data)
    elif data.get("object") == "chat.completion" or rec.resource is CHAT:
        assert all(isinstance(c, ChatChoice) for c in ChatCompletion.construct(**data).choices)
    else:
        assert rec.resource is COMPLETIONS
        assert all(isinstance(c, CompletionChoice) for c in Completion.construct(**data).choices)


def test_model_lists_are_served_as_their_union():
    store = RecordingStore(CORPUS)
    store.load()
    files = [f for f in INDEX if f["endpoint"] == "/v1/models"]
    ids = {m["__data__"]["id"] for f in files for m in json.loads((CORPUS / f["path"]).read_text())["response"]["body"]}
    key = Recording.from_json(json.loads((CORPUS / files[0]["path"]).read_text())).key
    rep = store.take(key).answer
    served = [m["id"] for m in orjson.loads(rep.body)["data"]]
    assert len(served) == len(set(served)) and set(served) == ids


def check_other_api(entry, rec):
    """Anthropic Messages and Ollama native recordings replay in their own wire format and SDK types."""
    import anthropic.types
    import ollama

    rep = rec.replay
    if entry["endpoint"] == "/v1/messages":
        if rec.is_streaming:
            events = sse.parse(rep.body)
            raw_lines = rec.raw["response"]["body"]
            assert [e.event for e in events] == [ln[len("event: ") :] for ln in raw_lines if ln.startswith("event: ")]
            assert [json.loads(e.data) for e in events] == [
                json.loads(ln[len("data: ") :]) for ln in raw_lines if ln.startswith("data: ")
            ]
            assert events[-1].event == "message_stop" and rep.content_type.startswith("text/event-stream")
        elif rec.status == 200:
            msg = anthropic.types.Message.construct(**orjson.loads(rep.body))  # how the SDK parses answers
            assert msg.role == "assistant" and [b.type for b in msg.content] == ["thinking", "tool_use"]
        else:
            assert rep.status == rec.status and orjson.loads(rep.body)["type"] == "error"
        return
    if rec.is_streaming:
        lines = rep.body.decode().splitlines()
        assert rep.content_type == "application/x-ndjson" and len(lines) == entry["chunk_count"]
        parsed = [ollama.GenerateResponse.model_validate(json.loads(ln)) for ln in lines]
        assert parsed[-1].done and "".join(p.response for p in parsed)
        return
    data = orjson.loads(rep.body)
    cls = {
        "/api/generate": ollama.GenerateResponse,
        "/api/tags": ollama.ListResponse,
        "/api/embeddings": ollama.EmbedResponse,
    }[entry["endpoint"]]
    cls.model_validate(data)
