"""WebSocket sessions without a network: the message envelopes (framings/websocket.py), a session's
recording (capture.session_recording), the session walk (matching/session.py), and the record hook
driven by mitmproxy's test helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from llm_vcr.addons import make_addons
from llm_vcr.apis import classify_request, realtime
from llm_vcr.capture import session_recording
from llm_vcr.framings import websocket
from llm_vcr.matching.request import prepare
from llm_vcr.matching.session import SessionReplay
from llm_vcr.store import read_file
from llm_vcr.store.recording import Recording

URL = "wss://api.openai.com/v1/realtime?model=gpt-realtime&api-key=sk-proj-CANARY0123456789abcdefABCDEF"


def _json(event: dict) -> bytes:
    return json.dumps(event).encode()


def session(*turns: str, close_by_client: bool = True) -> Recording:
    """A recorded session: session.created, then per turn a client item and the server's answer."""
    msgs = [(False, True, _json({"type": "session.created", "event_id": "ev_s", "session": {"id": "sess_1"}}), 0.01)]
    for i, text in enumerate(turns):
        item = {"type": "conversation.item.create", "event_id": f"ev_c{i}", "item": {"content": [{"text": text}]}}
        msgs.append((True, True, _json(item), 0.1 * (i + 1)))
        msgs.append((False, True, _json({"type": "response.done", "response": {"id": f"resp_{text}"}}), 0.1 * i + 0.15))
    return session_recording(url=URL, resource=realtime.REALTIME, messages=msgs, close=(1000, "", close_by_client),
                             headers_at=0.005)  # fmt: skip


def item(text: str, event_id: str = "ev_other") -> bytes:
    return _json({"type": "conversation.item.create", "event_id": event_id, "item": {"content": [{"text": text}]}})


def test_a_session_recording_types_both_sides_and_keeps_no_credential():
    rec = session("hi")
    body = rec.to_json()
    assert body["request"]["body"] == {"model": "gpt-realtime"}  # the credential parameter is not the session
    assert "CANARY" not in json.dumps(body)
    types = [(m["__from__"], m["__type__"].rsplit(".", 1)[1]) for m in body["response"]["body"]]
    assert types == [("server", "SessionCreatedEvent"), ("client", "ConversationItemCreateEvent"),
                     ("server", "ResponseDoneEvent")]  # fmt: skip
    assert body["response"]["websocket"]["close"] == {"code": 1000, "reason": "", "by": "client"}
    assert len(body["response"]["timing"]["chunks_ms"]) == 3 and rec.partial is None
    again = Recording.from_json(json.loads(rec.dumps()))
    assert again.key == rec.key and again.resource is realtime.REALTIME


def test_binary_and_non_json_text_messages_round_trip_exactly():
    sent = [websocket.Message(True, False, b"\x00\xffraw"), websocket.Message(False, True, b"not JSON {")]
    items = [websocket.envelope("t", m, websocket.parse(m)) for m in sent]
    assert [i["__data__"] for i in items] == ["AP9yYXc=", "not JSON {"]
    items[0]["__type__"], items[1]["__type__"] = websocket.BYTES, websocket.TEXT
    assert websocket.messages(items) == sent


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"__type__": "x", "__data__": {}}, 'has no "__from__"'),
        ({"__type__": websocket.BYTES, "__data__": "***", "__from__": "server"}, "not base64"),
        ("text", "is not an envelope"),
    ],
)
def test_a_hostile_session_file_is_refused_with_its_reason(tmp_path, item, reason):
    doc = session("hi").to_json()
    doc["response"]["body"].append(item)
    path = tmp_path / "realtime-x-000.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=reason):
        read_file(path)


def test_a_dropped_or_unfinished_session_is_partial():
    msgs = [(False, True, b"{}", 0.0)]
    dropped = session_recording(url=URL, resource=realtime.REALTIME, messages=msgs, close=(1006, "", False),
                                headers_at=0.0)  # fmt: skip
    assert dropped.partial == "the connection dropped without a close frame"
    cut = session_recording(url=URL, resource=realtime.REALTIME, messages=msgs, close=(None, "", None), headers_at=0.0,
                            broken="the proxy shut down")  # fmt: skip
    assert "the proxy shut down" in cut.partial


def test_the_handshake_key_is_the_query_without_credentials():
    upgrade = classify_request("GET", "/v1/realtime?model=m", None, upgrade=True)
    assert upgrade is realtime.REALTIME
    assert classify_request("GET", "/openai/v1/responses", None, upgrade=True) is realtime.RESPONSES_SOCKET
    assert classify_request("GET", "/v1/realtime", None) is None  # not an upgrade: not a session
    a = prepare("GET", upgrade, None, path="/v1/realtime?model=m&api-key=one")
    b = prepare("GET", upgrade, None, path="/openai/realtime?api-key=two&model=m")
    c = prepare("GET", upgrade, None, path="/v1/realtime?model=other")
    assert a.key == b.key != c.key
    assert a.key == session_recording(url="ws://h/v1/realtime?model=m", resource=upgrade, messages=[],
                                      close=(1000, "", True), headers_at=0).key  # fmt: skip


def test_a_session_walks_server_messages_up_to_each_client_message():
    rec = session("hi", "bye")
    s = SessionReplay(realtime.REALTIME, rec.key, [(Path("a.json"), rec)])
    assert [json.loads(o.content)["type"] for o in s.due()] == ["session.created"]
    assert s.due() == []  # the next message is the client's
    assert s.receive(True, item("hi", event_id="ev_new")) is None  # event ids are the client's own
    assert [json.loads(o.content)["response"]["id"] for o in s.due()] == ["resp_hi"]
    assert s.receive(True, item("bye")) is None and len(s.due()) == 1
    assert s.finished and s.close() is None  # the client closed it in the recording


def test_a_diverging_message_moves_to_a_recording_that_fits_or_is_a_miss():
    first, second = session("hi", "bye"), session("hi", "again")
    s = SessionReplay(realtime.REALTIME, first.key, [(Path("1.json"), first), (Path("2.json"), second)])
    s.due()
    assert s.receive(True, item("hi")) is None
    s.due()
    assert s.receive(True, item("again")) is None  # sessions recorded in another order
    assert s.path == Path("2.json") and s.served == [Path("1.json"), Path("2.json")]
    assert [json.loads(o.content)["response"]["id"] for o in s.due()] == ["resp_again"]
    miss = s.receive(True, item("more"))
    assert miss is not None and miss.index == 2
    assert "ends after 2 client messages" in miss.message and "llm-vcr run --mode record" in miss.message

    s = SessionReplay(realtime.REALTIME, first.key, [(Path("1.json"), first)])
    s.due()
    miss = s.receive(True, item("hello"))
    assert miss is not None and "client message 1 (conversation.item.create)" in miss.message
    assert 'item.content[0].text (request "hello", recording "hi")' in miss.message


def test_a_server_close_is_replayed():
    rec = session("hi", close_by_client=False)
    s = SessionReplay(realtime.REALTIME, rec.key, [(Path("a.json"), rec)])
    s.due()
    s.receive(True, item("hi"))
    s.due()
    assert s.finished and s.close() == (1000, "")


def test_the_record_hook_writes_a_session_when_it_ends(tmp_path):
    addons = make_addons()
    settings, _scopes, replay, record, *_ = addons
    with taddons.context(*addons) as tctx:
        tctx.configure(settings, vcr_dir=str(tmp_path), vcr_mode="record")
        f = tflow.twebsocketflow(messages=False)
        f.request.path = "/v1/realtime?model=gpt-realtime"
        f.live = True
        f.response = None
        replay.request(f)
        assert f.metadata["llm_vcr"]["outcome"] == "recording"
        f.response = http.Response.make(101, b"", {"upgrade": "websocket"})
        record.response(f)  # the handshake: nothing to write yet
        record.websocket_start(f)
        f.websocket.messages = [
            WebSocketMessage(Opcode.TEXT, False, b'{"type":"session.created"}', f.request.timestamp_start + 0.1),
            WebSocketMessage(Opcode.BINARY, True, b"\x01", f.request.timestamp_start + 0.2),
        ]
        f.websocket.close_code, f.websocket.closed_by_client = 1000, True
        record.websocket_end(f)
        settings.vcr.flush()
        [path] = tmp_path.glob("realtime-*.json")
        rec = read_file(path)
        assert [m["__from__"] for m in rec.response_body] == ["server", "client"]
        assert rec.url.startswith("ws://") and settings.vcr.stats.recorded == 1
