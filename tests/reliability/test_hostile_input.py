"""Compressed bodies (gzip, deflate, br, zstd), non-UTF-8 bytes, 10 MB bodies, names that try
path traversal: each gets a clean pass-through or a clear error, and the proxy keeps serving."""

import http.client
import json

import pytest
from mitmproxy.net import encoding

from llm_vcr.framings import sse
from llm_vcr.store import RecordingStore

from ..e2e.harness import Mitmdump, ScriptedUpstream, json_response, sse_response
from .upstream import chunk

STREAM = sse_response(chunk("x", 0), chunk("x", 1, final=True), b"data: [DONE]\n\n")
BODY = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}


def post(port: int, body: bytes, headers: dict | None = None, path: str = "/v1/chat/completions"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=body, headers={"content-type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def encoded_sse(ce: str) -> list[bytes]:
    """The STREAM events as one content-encoded body (content-length framing)."""
    body = b"".join(part.split(b"\r\n", 1)[1].rsplit(b"\r\n", 1)[0] for part in STREAM[1:-1])
    data = encoding.encode(body, ce)
    return [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: %s\r\n"
        b"content-length: %d\r\n\r\n%s" % (ce.encode(), len(data), data)
    ]


@pytest.mark.parametrize("ce", ["gzip", "deflate", "br", "zstd"])
def test_compressed_requests_and_responses(ce, tmp_path):
    up = ScriptedUpstream({"/v1/chat/completions": encoded_sse(ce)})
    vcr_dir = tmp_path / "recs"
    req = encoding.encode(json.dumps(BODY).encode(), ce)
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            status, headers, data = post(p.port, req, {"content-encoding": ce})
        assert status == 200 and headers["content-encoding"] == ce  # passed through untouched
        live = [e.data for e in sse.parse(encoding.decode(data, ce))]
        assert len(live) == 3 and live[-1] == "[DONE]"
        assert up.requests[0][1] == req  # the upstream got the client's compressed bytes
        (path,) = vcr_dir.glob("*.json")
        rec = json.loads(path.read_text())
        assert rec["request"]["body"] == BODY and len(rec["response"]["body"]) == 2

        with Mitmdump(tmp_path, vcr_dir, "replay", reverse=up.url) as p:
            status, _, data = post(p.port, req, {"content-encoding": ce})
        replayed = [e.data for e in sse.parse(data)]  # replay re-serialises: compare parsed JSON
        assert status == 200 and [json.loads(d) for d in replayed[:-1]] == [json.loads(d) for d in live[:-1]]
        assert len(up.requests) == 1
    finally:
        up.close()


def test_non_utf8_bytes(tmp_path):
    bad_sse = sse_response(
        b'data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"\xff\xfe"}}]}\n\n',
        b"data: [DONE]\n\n",
    )
    up = ScriptedUpstream({"/v1/chat/completions": bad_sse})
    vcr_dir = tmp_path / "recs"
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            status, _, data = post(p.port, b'{"model": "m", "messages": [{"content": "\xff"}]}')
            assert status == 200 and b"\xff\xfe" in data  # not JSON we can key: passed through untouched
            status, _, data = post(p.port, json.dumps(BODY).encode())
            assert status == 200 and b"\xff\xfe" in data  # the client gets the upstream's bytes as they were
        (path,) = vcr_dir.glob("*.json")  # the first was not recorded; the second was, text replaced
        assert (
            "\ufffd"
            in json.loads(path.read_text())["response"]["body"][0]["__data__"]["choices"][0]["delta"]["content"]
        )
        with Mitmdump(tmp_path, vcr_dir, "replay", reverse=up.url) as p:
            status, _, data = post(p.port, b'{"model": "m", "messages": [{"content": "\xff"}]}')
            assert status == 400 and b"not valid JSON" in data
            assert post(p.port, json.dumps(BODY).encode())[0] == 200  # still serving
    finally:
        up.close()


def test_ten_megabyte_bodies(tmp_path):
    big_answer = json.dumps(
        {
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "y" * 10_000_000}}],
        }
    ).encode()
    up = ScriptedUpstream({"/v1/chat/completions": json_response(200, big_answer)})
    vcr_dir = tmp_path / "recs"
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 10_000_000}]}).encode()
    try:
        with Mitmdump(tmp_path, vcr_dir, "record", reverse=up.url) as p:
            assert post(p.port, body)[2] == big_answer
        with Mitmdump(tmp_path, vcr_dir, "replay", reverse=up.url) as p:
            status, _, data = post(p.port, body)
        assert status == 200 and json.loads(data) == json.loads(big_answer)
        assert len(up.requests) == 1
    finally:
        up.close()


def test_names_that_try_path_traversal_stay_inside_the_folder(tmp_path):
    up = ScriptedUpstream({"/v1/chat/completions": STREAM})
    vcr_dir = tmp_path / "deep" / "recs"
    hostile = {
        "model": "../../../../escape",
        "messages": [{"role": "../x", "content": "/etc/passwd"}],
        "stream": True,
        "../../name": "..\\..\\x",
    }
    try:
        with Mitmdump(tmp_path / "work", vcr_dir, "record", reverse=up.url) as p:
            assert post(p.port, json.dumps(hostile).encode(), path="/v1/../../chat/completions")[0] in (200, 400, 404)
            assert post(p.port, json.dumps(hostile).encode())[0] == 200
    finally:
        up.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(tmp_path / "work")]
    assert written and all(p.parent == vcr_dir and p.name.startswith("chat_completions-") for p in written)
    (vcr_dir / "link.json").symlink_to("/etc/passwd")  # a hostile file in the folder: skipped, reported
    report = RecordingStore(vcr_dir).load()
    assert [(p.name, "a link out of the recordings folder" in r) for p, r in report.skipped] == [("link.json", True)]


def _bomb(size: int) -> bytes:
    """A gzip body of a few hundred KB that inflates to `size` bytes of a JSON-looking prefix and zeros."""
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(b'{"model": "m", "messages": [{"role": "user", "content": "')]
    block = b"0" * (1 << 20)
    for _ in range(size >> 20):
        out.append(c.compress(block))
    out.append(c.compress(b'"}]}'))
    out.append(c.flush())
    return b"".join(out)


def test_a_decompression_bomb_is_refused_in_replay_and_passed_through_unrecorded(tmp_path):
    bomb = _bomb(500 << 20)  # 500 MB inflated, about 500 KB on the wire
    assert len(bomb) < 1 << 20
    up = ScriptedUpstream({"/v1/chat/completions": STREAM})
    try:
        with Mitmdump(tmp_path / "a", tmp_path / "recs", "replay") as p:
            status, headers, data = post(p.port, bomb, {"content-encoding": "gzip"})
            alive = post(p.port, json.dumps(BODY).encode())[0]  # the proxy keeps serving
        assert status == 413 and headers["x-should-retry"] == "false" and alive == 404
        assert "vcr_max_body_mb" in json.loads(data)["error"]["message"]
        with Mitmdump(tmp_path / "b", tmp_path / "recs", "record", reverse=up.url) as p:
            status, _, _ = post(p.port, bomb, {"content-encoding": "gzip"})
            report = p.stop()
            log = p.log()
    finally:
        up.close()
    assert status == 200  # passed through: the upstream decides what to make of it
    assert report["not_recorded"] == 1 and report["recorded"] == 0, log
    assert "NOT recorded" in log and "inflates past" in log
    assert not list((tmp_path / "recs").glob("*.json"))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_get_a_clear_400_and_never_the_key_of_null(literal, tmp_path):
    template = '{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": %s}'
    vcr_dir = tmp_path / "recs"
    up = ScriptedUpstream({"/v1/chat/completions": STREAM})
    try:
        with Mitmdump(tmp_path / "r", vcr_dir, "record", reverse=up.url) as p:
            assert post(p.port, (template % "null").encode())[0] == 200  # recorded with temperature null
        with Mitmdump(tmp_path / "p", vcr_dir, "replay") as p:
            null = post(p.port, (template % "null").encode())[0]
            status, _, data = post(p.port, (template % literal).encode())
    finally:
        up.close()
    assert null == 200  # the recording of null replays
    assert status == 400, data  # ... and is not served for a non-finite number
    assert "not valid JSON" in json.loads(data)["error"]["message"]


def test_absurd_nesting_gets_a_clear_400_not_an_internal_error(tmp_path):
    deep = "[" * 5000 + "]" * 5000
    body = '{"model": "m", "messages": [{"role": "user", "content": %s}]}'
    with Mitmdump(tmp_path, tmp_path / "recs", "replay") as p:
        results = [post(p.port, (body % d).encode()) for d in ("[" * 300 + "]" * 300, deep)]
        alive = post(p.port, json.dumps(BODY).encode())[0]
    for status, _, data in results:
        assert status == 400 and "nested deeper than" in json.loads(data)["error"]["message"], data
    assert alive == 404
