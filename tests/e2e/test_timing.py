"""Chunk timing: recorded offsets, and paced replay at real speed or a factor, measured at the client."""

import http.client
import json
import time

import pytest

from llm_vcr.framings.sse import SSEParser

from ..reliability.upstream import chunk
from .harness import Mitmdump, ScriptedUpstream

# Upstream pauses (s) before headers and before each event: a slow first token, then uneven gaps.
PAUSES = [0.12, 0.0, 0.08, 0.03, 0.15, 0.01, 0.2, 0.05]
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "pace"}], "stream": True})


def script() -> list:
    events = [chunk("p", i, final=i == len(PAUSES) - 2) for i in range(len(PAUSES) - 1)] + [b"data: [DONE]\n\n"]
    parts: list = [PAUSES[0], HEAD]
    for pause, ev in zip(PAUSES[1:], events, strict=False):
        parts += [pause, b"%x\r\n%s\r\n" % (len(ev), ev)]
    return [*parts, events[-1] and b"%x\r\n%s\r\n" % (len(events[-1]), events[-1]), b"0\r\n\r\n"]


def timed_events(port: int) -> tuple[list[float], dict]:
    """Arrival time of each SSE event at the client, from just before the request is sent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=BODY, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    parser, arrivals = SSEParser(), []
    while data := resp.read1(65536):
        now = time.perf_counter() - t0
        arrivals += [now for ev in parser.feed(data) if not ev.is_done]
    conn.close()
    return arrivals, dict(resp.getheaders())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timing")
    up = ScriptedUpstream({"/v1/chat/completions": script()}, delay=0)
    try:
        with Mitmdump(tmp, tmp / "recs", "record", reverse=up.url) as p:
            live, _ = timed_events(p.port)
    finally:
        up.close()
    (path,) = (tmp / "recs").glob("*.json")
    return tmp, json.loads(path.read_text())["response"]["timing"], live


def test_offsets_are_recorded_from_the_request_start(recorded):
    _, timing, live = recorded
    offsets = [ms / 1000 for ms in timing["chunks_ms"]]
    expected = [sum(PAUSES[: i + 2]) for i in range(len(offsets))]  # headers pause + pauses up to that event
    assert len(offsets) == len(live) == len(PAUSES) - 1
    assert all(abs(o - e) < 0.03 for o, e in zip(offsets, expected, strict=True)), (offsets, expected)
    assert 0.1 < timing["headers_ms"] / 1000 < 0.2 and timing["end_ms"] >= timing["chunks_ms"][-1]


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_paced_replay_reproduces_every_offset(recorded, speed):
    tmp, timing, _ = recorded
    want = [ms / 1000 / speed for ms in timing["chunks_ms"]]
    timing_opt = "real" if speed == 1.0 else f"{speed:g}x"
    with Mitmdump(
        tmp, tmp / "recs", "replay", reverse="http://127.0.0.1:9", options=(f"vcr_timing={timing_opt}",)
    ) as p:
        # The first request through a fresh mitmdump pays its cold start (~20-40 ms here, live or replayed
        # alike); measure a warm proxy. The recording repeats once its sequence is exhausted.
        timed_events(p.port)
        got, headers = timed_events(p.port)
    assert headers.get("x-llm-vcr") == "replay" and headers.get("transfer-encoding") == "chunked"
    errors = [abs(g - w) for g, w in zip(got, want, strict=True)]
    assert max(errors) <= 0.010, f"arrivals {got} vs recorded {want}: errors {errors}"  # within 10 ms each


def test_none_is_the_instant_one_write_path(recorded):
    tmp, _, live = recorded
    with Mitmdump(tmp, tmp / "recs", "replay", reverse="http://127.0.0.1:9") as p:
        got, headers = timed_events(p.port)
    assert len(got) == len(live) and "content-length" in headers  # Response.make: one body, no pacing
    assert got[-1] - got[0] < 0.005  # all events in the same read(s), not spread over the recorded 0.5 s
