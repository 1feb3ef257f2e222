"""Recordings made by other tools (the seed, llama-stack/OGX corpus) replay to the real SDK."""

import json

import openai
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from llm_vcr.apis import CHAT, COMPLETIONS, EMBEDDINGS, MODELS
from llm_vcr.store import RecordingStore
from llm_vcr.store.recording import Recording

from ..conftest import CORPUS, SEED
from .harness import Mitmdump
from .scenarios import client, merge_tool_call

OPENAI_ENDPOINTS = ("/v1/chat/completions", "/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models")


def test_seed_serves_the_same_request_sent_by_the_openai_sdk(tmp_path):
    vcr_dir = tmp_path / "recs"
    vcr_dir.mkdir()
    (vcr_dir / SEED.name).write_bytes(SEED.read_bytes())
    doc = json.loads(SEED.read_text())
    with Mitmdump(tmp_path, vcr_dir, "replay") as p:
        c = client("http://localhost:8000/v1", proxy=p.url)  # the seed's own base URL; nothing listens there
        chunks = [ch.to_dict() for ch in c.chat.completions.create(**doc["request"]["body"])]
    assert chunks == [e["__data__"] for e in doc["response"]["body"]]
    call = merge_tool_call(chunks)
    assert call == {
        "name": "get_object_namespace_list",
        "arguments": {"kind": "pod", "namespace": "openshift-lightspeed"},
    }
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_every_openai_corpus_recording_replays_through_the_sdk(tmp_path):
    store = RecordingStore(CORPUS)
    store.load()
    entries = store.entries()
    sequences = [[rec for _, rec in seq] for seq in entries.values()
                 if seq[0][1].resource.api == "openai" and seq[0][1].resource is not MODELS]  # fmt: skip
    index = json.loads((CORPUS / "index.json").read_text())["files"]
    expected = [f for f in index if f["endpoint"] in OPENAI_ENDPOINTS and f["endpoint"] != "/v1/models"]
    assert sum(map(len, sequences)) == len(expected)  # the corpus's own description, not our count

    with Mitmdump(tmp_path, CORPUS, "replay", reverse="http://127.0.0.1:9") as p:  # port 9: nothing there
        c = client(f"{p.url}/v1")
        for seq in sequences:
            for rec in seq:  # identical requests replay in order
                check(c, rec)
        ids = [m.id for m in c.models.list()]
    log = p.log()  # after shutdown, which prints the summary
    want = {m["id"] for seq in entries.values() if seq[0][1].resource is MODELS for _, r in seq for m in r.chunks}
    assert len(ids) == len(set(ids)) and set(ids) == want
    assert f"{len(expected) + 1} replayed, 0 missed" in log  # + the model list


def check(c: openai.OpenAI, rec: Recording) -> None:
    path = "/" + rec.resource.name
    if rec.error_body is not None:
        try:
            c.post(path, body=rec.body, cast_to=ChatCompletion)
        except openai.APIStatusError as e:
            assert e.status_code == rec.status and e.body == rec.error_body
            return
        raise AssertionError("a recorded error replayed as a success")
    if rec.is_streaming:
        stream = c.post(
            path,
            body=rec.body,
            cast_to=ChatCompletionChunk,
            stream=True,
            stream_cls=openai.Stream[ChatCompletionChunk if rec.resource is CHAT else Completion],
        )
        got = [ch.to_dict() for ch in stream]
        assert [g.get("id") for g in got] == [ch.get("id") for ch in rec.chunks]
        return
    cast = {CHAT: ChatCompletion, COMPLETIONS: Completion, EMBEDDINGS: CreateEmbeddingResponse}[rec.resource]
    if rec.chunks[0].get("object") == "chat.completion":
        cast = ChatCompletion
    got = c.post(path, body=rec.body, cast_to=cast)
    assert (
        got.id == rec.chunks[0].get("id")
        if cast is not CreateEmbeddingResponse
        else len(got.data) == len(rec.chunks[0]["data"])
    )
