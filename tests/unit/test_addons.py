"""The mitmproxy glue, driven by mitmproxy's own test helpers."""

import asyncio
import shutil

import orjson
import pytest
from mitmproxy import http
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons, tflow, tutils

from llm_vcr.addons import make_addons
from llm_vcr.framings import sse
from llm_vcr.store import read_file

from ..conftest import SEED

SEED_BODY = orjson.loads(SEED.read_bytes())["request"]["body"]
SSE_HEADERS = http.Headers(content_type="text/event-stream; charset=utf-8")
STREAM = [
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
    b"\n\ndata: [DONE]\n\n",
]


def llm_flow(body: object, path: str = "/v1/chat/completions", method: str = "POST", resp=False) -> http.HTTPFlow:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    req = tutils.treq(
        method=method.encode(),
        path=path.encode(),
        host="api.openai.invalid",
        port=443,
        scheme=b"https",
        content=content,
        headers=http.Headers(content_type="application/json"),
    )
    return tflow.tflow(req=req, resp=resp, live=True)


@pytest.fixture
def vcr(tmp_path):
    addons = make_addons()
    settings, _scopes, replay, record, *_ = addons
    with taddons.context(Proxyserver(), *addons) as tctx:  # Proxyserver owns connection_strategy
        tctx.configure(settings, vcr_dir=str(tmp_path))
        yield tctx, settings.vcr, replay, record


def configure(vcr_fixture, **opts):
    tctx, vcr, *_ = vcr_fixture
    tctx.configure(vcr_fixture[2], **opts)
    return vcr


def test_replay_is_the_default_and_forces_lazy_connections(vcr):
    tctx, state, *_ = vcr
    assert state.mode == "replay" and tctx.options.connection_strategy == "lazy"


def test_hit_is_answered_in_request(vcr, tmp_path):
    tctx, state, replay, _ = vcr
    shutil.copy(SEED, tmp_path / SEED.name)
    tctx.configure(replay, vcr_dir=str(tmp_path / "."))  # reload
    f = llm_flow(SEED_BODY)
    replay.request(f)
    assert f.response.status_code == 200 and f.is_replay == "response"
    assert f.response.headers["content-type"].startswith("text/event-stream")
    assert sse.parse(f.response.content)[-1].is_done
    assert f.metadata["llm_vcr"]["outcome"] == "replayed" and state.stats.hits == 1


def test_each_replayed_response_is_independent_of_the_others(vcr, tmp_path):
    # Answers are shallow copies of one response per recording: another addon changing one answer's
    # headers, body or status must not reach the next.
    tctx, _, replay, _ = vcr
    shutil.copy(SEED, tmp_path / SEED.name)
    tctx.configure(replay, vcr_dir=str(tmp_path / "."), vcr_mode="replay")
    first, second = llm_flow(SEED_BODY), llm_flow(SEED_BODY)
    replay.request(first)
    body = first.response.content
    first.response.headers["x-changed"] = "1"
    first.response.headers["content-type"] = "text/plain"
    first.response.status_code = 500
    first.response.content = b"changed"
    replay.request(second)
    assert "x-changed" not in second.response.headers
    assert second.response.headers["content-type"].startswith("text/event-stream")
    assert second.response.status_code == 200 and second.response.content == body
    assert second.response.timestamp_start >= first.response.timestamp_start
    assert second.response is not first.response and second.response.data is not first.response.data


async def ask(replay, flow) -> None:
    """Run the request hook as mitmproxy does: a miss returns an awaitable (explained off the loop)."""
    pending = replay.request(flow)
    if pending is not None:
        await pending


async def test_miss_is_a_loud_non_retried_404(vcr, tmp_path):
    tctx, state, replay, _ = vcr
    shutil.copy(SEED, tmp_path / SEED.name)
    tctx.configure(replay, vcr_dir=str(tmp_path / "."))
    body = {**SEED_BODY, "temperature": 0.5}
    f = llm_flow(body)
    await ask(replay, f)
    assert f.response.status_code == 404 and f.response.headers["x-should-retry"] == "false"
    err = orjson.loads(f.response.content)["error"]
    assert err["type"] == "llm_vcr_no_recording" and err["request_key"] in err["message"]
    assert err["nearest"]["differs_at"] == ["temperature (request 0.5, recording 0)"] and SEED.name in err["message"]
    assert state.stats.misses == 1


def test_non_llm_traffic_is_untouched_in_replay(vcr):
    _, state, replay, _ = vcr
    for f in (llm_flow(b"x", path="/index.html", method="GET"), llm_flow({}, path="/v2/things")):
        f.request.host = "example.invalid"
        replay.request(f)
        assert f.response is None and "llm_vcr" not in f.metadata
    assert state.stats.other_requests == 2 and state.stats.unsupported == 0


@pytest.mark.parametrize(
    ("method", "path", "what"),
    [
        ("POST", "/v1/files", "OpenAI files"),
        ("POST", "/v1/audio/speech", "OpenAI audio"),
        ("GET", "/v1/responses/resp_1", "OpenAI Responses"),
        ("POST", "/v1/messages/count_tokens", "Anthropic token counting"),
        ("POST", "/v1beta/models/imagen-3.0:predict", "Gemini"),
        ("POST", "/v1beta/cachedContents", "Gemini files and caches"),
        ("POST", "/api/show", "Ollama"),
        ("POST", "/v1/models", "POST on models"),
        ("GET", "/v1/chat/completions", "GET on chat/completions"),
    ],
)
def test_llm_calls_replay_cannot_answer_get_a_non_retried_4xx_never_the_network(vcr, method, path, what):
    _, state, replay, _ = vcr
    f = llm_flow({}, path=path, method=method)
    f.request.host = "example.invalid"  # not a well-known LLM host: the path alone decides
    replay.request(f)
    assert f.response is not None and f.response.status_code == 404
    assert f.response.headers["x-should-retry"] == "false"
    err = orjson.loads(f.response.content)["error"]
    assert err["code"] == "not_replayed" and what in err["message"] and "does not replay" in err["message"]
    assert state.stats.unsupported == 1 and what in state.stats.unsupported_calls[0]


def test_any_request_to_an_llm_api_host_is_answered_locally_in_replay(vcr):
    _, state, replay, _ = vcr
    assert state.stats.unsupported == 0
    f = llm_flow(b"", path="/v1/organization/usage", method="GET")
    f.request.host = "api.anthropic.com"
    replay.request(f)
    assert f.response.status_code == 404 and "api.anthropic.com" in orjson.loads(f.response.content)["error"]["message"]
    assert state.stats.unsupported == 1


def test_sdk_telemetry_is_answered_with_success_in_replay(vcr):
    _, state, replay, _ = vcr
    f = llm_flow({"data": [{"id": "trace_1"}]}, path="/v1/traces/ingest")
    replay.request(f)
    assert f.response.status_code == 200 and state.stats.telemetry == 1
    for host, path in (("api.smith.langchain.com", "/runs/multipart"), ("gateway.internal", "/api/v1/runs/batch")):
        f = llm_flow({}, path=path)
        f.request.host = host
        replay.request(f)
        assert f.response.status_code == 200 and f.response.headers["x-llm-vcr"] == "telemetry"
    assert state.stats.telemetry == 3


def test_non_json_body_gets_a_clear_400_in_replay(vcr):
    _, _, replay, _ = vcr
    for body in (b"{not json", b"[1, 2]"):
        f = llm_flow(body)
        replay.request(f)
        assert f.response.status_code == 400
        assert "cannot replay this request" in orjson.loads(f.response.content)["error"]["message"]


def test_an_internal_error_in_replay_still_answers_and_never_forwards(vcr, monkeypatch):
    _, state, replay, _ = vcr
    monkeypatch.setattr(state.store, "take", lambda key: 1 / 0)
    f = llm_flow(SEED_BODY)
    replay.request(f)
    assert f.response.status_code == 500 and f.response.headers["x-should-retry"] == "false"
    assert "ZeroDivisionError" in orjson.loads(f.response.content)["error"]["message"]


async def record_stream(vcr, reads, end="response"):
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="record")
    f = llm_flow({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    replay.request(f)
    assert f.response is None  # record passes the request through
    f.response = tutils.tresp(content=None, headers=SSE_HEADERS.copy())
    record.responseheaders(f)
    forwarded = [f.response.stream(r) for r in reads]
    assert forwarded == list(reads)  # each read forwarded at once, unchanged
    if end == "response":
        assert f.response.stream(b"") == b""
        record.response(f)
        assert f.response.raw_content == b"".join(reads)[: tctx.options.vcr_view_limit]
    else:
        f.error = tflow.terr("Client disconnected.")
        record.error(f)
    state.flush()
    return f, state


async def test_record_tees_a_stream_into_typed_envelopes(vcr, tmp_path):
    await record_stream(vcr, STREAM)
    (path,) = tmp_path.glob("chat_completions-*.json")
    rec = read_file(path)
    assert rec.partial is None and [c["id"] for c in rec.chunks] == ["c1", "c1"]
    assert rec.raw["response"]["body"][0]["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    assert rec.raw["request"]["headers"] == {}


async def test_stream_ended_by_client_after_done_is_complete(vcr, tmp_path):
    await record_stream(vcr, STREAM, end="error")
    (path,) = tmp_path.glob("chat_completions-*.json")
    assert read_file(path).partial is None


async def test_stream_cut_before_done_is_kept_partial_and_never_replayed(vcr, tmp_path):
    _, state = await record_stream(vcr, STREAM[:2], end="error")
    (path,) = tmp_path.glob("*.partial.json")
    assert "before data: [DONE]" in read_file(path).partial
    assert len(state.store) == 0


async def test_live_mode_streams_and_stores_nothing(vcr, tmp_path):
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="live")
    f = llm_flow({"model": "m", "messages": [], "stream": True})
    replay.request(f)
    f.response = tutils.tresp(content=None, headers=SSE_HEADERS.copy())
    record.responseheaders(f)
    assert f.response.stream is True
    record.response(f)
    state.flush()
    assert list(tmp_path.iterdir()) == []


async def test_auto_replays_what_it_just_recorded(vcr, tmp_path):
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="auto")
    body = {"model": "m", "input": "hello"}
    answer = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.25]}], "model": "m"}
    f = llm_flow(body, path="/v1/embeddings")
    replay.request(f)
    assert f.response is None
    f.response = tutils.tresp(content=orjson.dumps(answer), headers=http.Headers(content_type="application/json"))
    record.response(f)
    state.flush()
    for _ in range(200):  # the writer thread hands the new recording back to the event loop
        if len(state.store):
            break
        await asyncio.sleep(0.01)
    again = llm_flow({"input": "hello", "model": "m"}, path="/v1/embeddings")
    replay.request(again)
    assert again.is_replay == "response" and orjson.loads(again.response.content) == answer


async def test_shutdown_right_after_a_stream_counts_and_registers_it(vcr, tmp_path):
    # done() runs before the event loop gets to the writer's callbacks: it must drain them itself.
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="record", vcr_report=str(tmp_path / "report.json"))
    f = llm_flow({"model": "m", "messages": [], "stream": True})
    replay.request(f)
    f.response = tutils.tresp(content=None, headers=SSE_HEADERS.copy())
    record.responseheaders(f)
    for r in STREAM:
        f.response.stream(r)
    record.response(f)
    tctx.master.addons.get("vcr").done()  # no await in between: the loop never ran
    assert state.stats.recorded == 1 and len(state.store) == 1
    assert orjson.loads((tmp_path / "report.json").read_bytes())["recorded"] == 1


SECRET = "sk-proj-CANARYabcdefghijklmnopqrstuvwxyz0123456789"


async def test_secrets_in_body_url_and_chunks_are_redacted_and_still_match(vcr, tmp_path):
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="record")
    body = {"model": "m", "messages": [{"role": "user", "content": f"my key is {SECRET}"}], "stream": True}
    f = llm_flow(body, path=f"/v1/chat/completions?api-version=1&q={SECRET}")  # no credential-like name
    replay.request(f)
    f.response = tutils.tresp(content=None, headers=SSE_HEADERS.copy())
    record.responseheaders(f)
    chunk = b'data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"' + SECRET.encode() + b'"}}]}\n\n'
    for r in (chunk, b"data: [DONE]\n\n", b""):
        f.response.stream(r)
    record.response(f)
    state.flush()
    (path,) = tmp_path.glob("chat_completions-*.json")
    text = path.read_text()
    assert "CANARY" not in text and text.count("REDACTED:openai-key:") == 3
    assert state.stats.redacted == 1

    tctx.configure(replay, vcr_mode="replay")
    again = llm_flow(body)  # the same live request, secret and all
    replay.request(again)
    assert again.is_replay == "response", orjson.loads(again.response.content)


async def test_refuse_policy_writes_nothing(vcr, tmp_path):
    tctx, state, replay, record = vcr
    tctx.configure(replay, vcr_mode="record", vcr_secrets="refuse")
    f = llm_flow({"model": "m", "input": f"Bearer {SECRET}"}, path="/v1/embeddings")
    replay.request(f)
    f.response = tutils.tresp(
        content=b'{"object":"list","data":[]}', headers=http.Headers(content_type="application/json")
    )
    record.response(f)
    state.flush()
    assert list(tmp_path.iterdir()) == [] and state.stats.refused == 1


async def test_replay_refuses_to_dial_an_llm_upstream(vcr):
    from mitmproxy.proxy.server_hooks import ServerConnectionHookData
    from mitmproxy.test.tflow import tclient_conn, tserver_conn

    tctx, state, replay, _ = vcr
    guard = tctx.master.addons.get("vcr_offline")
    await ask(replay, llm_flow(SEED_BODY))  # an LLM request to api.openai.invalid:443: its upstream is learnt

    def dial(host, port):
        server = tserver_conn()
        server.address = (host, port)
        data = ServerConnectionHookData(server=server, client=tclient_conn())
        guard.server_connect(data)
        return data.server.error

    assert "replay mode does not connect" in dial("API.openai.invalid", 443)
    assert dial("example.com", 443) is None  # other traffic passes in replay
    tctx.configure(guard, vcr_offline=True)
    assert dial("example.com", 443) is not None  # unless the run must be hermetic
    tctx.configure(replay, vcr_mode="record")
    assert dial("api.openai.invalid", 443) is None
    assert state.stats.blocked == 2


async def test_llm_view_renders_a_recorded_stream_and_annotations_show_outcomes(vcr, tmp_path):
    from mitmproxy import contentviews

    f, _state = await record_stream(vcr, STREAM)
    await asyncio.sleep(0)
    assert f.marked == ":floppy_disk:" and f.comment.startswith("llm-vcr: recorded to chat_completions-")
    view = contentviews.prettify_message(f.response, f)
    assert view.view_name == "llm"
    assert "chunks: 2" in view.text and "Hi" in view.text and "finish reason: stop" in view.text


def test_llm_view_renders_a_recording_file(vcr):
    from mitmproxy import contentviews

    f = tflow.tflow(resp=tutils.tresp(content=SEED.read_bytes(), headers=http.Headers(content_type="application/json")))
    f.request.path = "/recordings/seed.json"
    view = contentviews.prettify_message(f.response, f)
    assert view.view_name == "llm" and "tool call: get_object_namespace_list" in view.text
    assert '"namespace": "openshift-lightspeed"' in view.text


async def test_commands_status_mode_report_and_save(vcr, tmp_path):
    tctx, state, _replay, _record = vcr
    shutil.copy(SEED, tmp_path / SEED.name)
    assert "1 recordings" in tctx.command(tctx.master.addons.get("vcr_commands").reload)
    commands = tctx.master.commands
    assert "mode record" in commands.call("vcr.mode", "record")
    assert state.mode == "record"
    # vcr.save: a finished LLM flow (e.g. loaded into mitmweb from a dump) becomes a recording
    f = llm_flow(
        {"model": "m", "input": "hi"},
        path="/v1/embeddings",
        resp=tutils.tresp(
            content=b'{"object":"list","data":[{"embedding":[1.0]}],"model":"m"}',
            headers=http.Headers(content_type="application/json"),
        ),
    )
    assert "saving 1 flows" in commands.call("vcr.save", [f, tflow.tflow()])
    state.flush()
    assert len(list(tmp_path.glob("embeddings-*.json"))) == 1
    report_path = tmp_path / "r.json"
    commands.call("vcr.report", str(report_path))
    report = orjson.loads(report_path.read_bytes())
    assert report["unused"] == [SEED.name] and len(report["new_recordings"]) == 1 and report["mode"] == "record"


def test_replay_counts_tokens_saved_and_served_recordings(vcr, tmp_path):
    tctx, state, replay, _ = vcr
    (tmp_path / "a.json").write_bytes(
        orjson.dumps(
            {
                "request": {
                    "method": "POST",
                    "url": "http://h/v1/chat/completions",
                    "body": {"model": "m", "messages": []},
                },
                "response": {
                    "is_streaming": False,
                    "body": {
                        "__type__": "x",
                        "__data__": {
                            "object": "chat.completion",
                            "choices": [{"index": 0, "message": {"content": "hi"}}],
                            "usage": {"total_tokens": 21},
                        },
                    },
                },
            }
        )
    )
    shutil.copy(SEED, tmp_path / SEED.name)
    tctx.configure(replay, vcr_dir=str(tmp_path / "."))
    for _ in range(2):
        replay.request(llm_flow({"model": "m", "messages": []}))
    report = state.report()
    assert report["tokens_saved"] == 42 and report["hits"] == 2 and report["unused"] == [SEED.name]


async def test_a_client_replay_in_replay_mode_is_answered_from_recordings(vcr):
    _, _, replay, _ = vcr
    f = llm_flow({**SEED_BODY, "temperature": 0.9})
    f.is_replay = "request"  # mitmweb's "Replay" button
    await ask(replay, f)
    assert f.response is not None and f.response.status_code == 404  # a miss, never the network


async def test_a_failure_while_explaining_a_miss_still_answers(vcr, monkeypatch):
    _, state, replay, _ = vcr
    monkeypatch.setattr(state.store, "nearest", lambda resource, body: 1 / 0)
    f = llm_flow({"model": "m", "messages": []})
    await ask(replay, f)
    assert f.response.status_code == 500 and f.response.headers["x-should-retry"] == "false"


async def test_large_and_encoded_bodies_are_prepared_off_the_event_loop(vcr, tmp_path, monkeypatch):
    import threading

    from llm_vcr.addons import replay as replay_module

    _, state, replay, _ = vcr
    threads: list[str] = []
    real = replay_module.prepare

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(replay_module, "prepare", spy)
    await ask(replay, llm_flow(SEED_BODY))  # a miss: explained in a thread, but prepared on the loop
    assert threads[0] == threading.main_thread().name  # a small body: on the loop, cheap
    threads.clear()
    big = llm_flow({**SEED_BODY, "pad": "x" * (300 * 1024)})
    pending = replay.request(big)
    assert pending is not None  # the hook hands mitmproxy an awaitable: other flows go on meanwhile
    await pending
    assert threads and threading.main_thread().name not in threads  # a big one: only ever in worker threads
    assert big.response.status_code == 404 and state.stats.misses == 2


async def test_a_big_folder_replays_by_name_at_once_and_answers_misses_after_its_scan(tmp_path, monkeypatch):
    import threading

    from llm_vcr.store import RecordingStore, building
    from llm_vcr.store import folder as store_module

    from .test_store import chat

    rec = chat("hi", "named")
    RecordingStore(tmp_path).write(rec)
    release = threading.Event()  # the background scan waits for it (and runs in this process)
    monkeypatch.setattr(building, "build_elsewhere", lambda *a, **k: release.wait(10) and building.build(*a, **k))
    monkeypatch.setattr(store_module, "LAZY_FROM", 1)  # "big" from one file on
    addons = make_addons()
    settings, _scopes, replay, *_ = addons
    with taddons.context(Proxyserver(), *addons) as tctx:
        tctx.configure(settings, vcr_dir=str(tmp_path))
        assert not settings.vcr.store.ready
        hit = llm_flow(rec.body)
        assert replay.request(hit) is None and hit.response.status_code == 200  # by its name, synchronously
        miss = llm_flow({"model": "m", "messages": [{"role": "user", "content": "other"}]})
        waiting = replay.request(miss)
        await asyncio.sleep(0.05)
        assert waiting is not None and miss.response is None  # no miss answered before every file is known
        release.set()
        await waiting
        assert miss.response.status_code == 404 and settings.vcr.stats.misses == 1


async def test_a_recorded_stream_over_the_view_limit_is_shown_bounded_and_recorded_whole(vcr, tmp_path):
    tctx, *_ = vcr
    tctx.options.vcr_view_limit = 50
    f, _state = await record_stream(vcr, STREAM)
    assert f.response.raw_content == b"".join(STREAM)[:50] and f.metadata["llm_vcr"]["body_truncated"] is True
    (path,) = tmp_path.glob("chat_completions-*.json")
    rec = read_file(path)
    assert rec.partial is None and len(rec.chunks) == 2
