"""Replay never opens a connection to the upstream: regular proxy with CONNECT over HTTPS, HTTP/2,
and reverse mode; hits, misses and malformed requests alike. The upstream counts connections."""

import http.client
import json
import socket
import subprocess

import pytest

from ..conftest import SEED
from ..e2e.harness import CountingRelay, Mitmdump, make_tls

HOST = socket.gethostname()
SEED_BODY = json.dumps(json.loads(SEED.read_text())["request"]["body"])
MISS_BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "not recorded"}]})


@pytest.fixture
def tls_upstream(tmp_path):
    ctx, ca = make_tls(tmp_path / "tls", HOST)
    relay = CountingRelay("127.0.0.1", 9, tls=ctx)  # forwards nowhere: it only counts
    relay.forwarding = False
    yield relay, ca
    relay.close()


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def requests(url: str, *extra: str) -> list[str]:
    """A hit, a miss, a malformed body and a non-LLM request to the same upstream."""
    post = ["-H", "content-type: application/json", "--data-binary"]
    return [
        curl(*extra, f"{url}/v1/chat/completions", *post, SEED_BODY).stdout,
        curl(*extra, f"{url}/v1/chat/completions", *post, MISS_BODY).stdout,
        curl(*extra, f"{url}/v1/chat/completions", *post, "{oops").stdout,
        curl(*extra, f"{url}/v1/files").stdout,
    ]


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_regular_proxy_over_https(http, tls_upstream, tmp_path):
    relay, ca = tls_upstream
    vcr_dir = tmp_path / "recs"
    vcr_dir.mkdir()
    (vcr_dir / SEED.name).write_bytes(SEED.read_bytes())
    with Mitmdump(tmp_path, vcr_dir, "replay", options=(f"ssl_verify_upstream_trusted_ca={ca}",)) as p:
        conf_ca = str(tmp_path / "conf" / "mitmproxy-ca-cert.pem")
        got = requests(f"https://{HOST}:{relay.port}", "-x", p.url, "--cacert", conf_ca, http)
    version = "2" if http == "--http2" else "1.1"
    # A hit, a miss, a malformed body, and an OpenAI endpoint llm-vcr does not replay: all answered locally.
    assert got == [f"200 {version}", f"404 {version}", f"400 {version}", f"404 {version}"]
    assert relay.connections == 0


def test_reverse_proxy(tls_upstream, tmp_path):
    relay, ca = tls_upstream
    vcr_dir = tmp_path / "recs"
    vcr_dir.mkdir()
    (vcr_dir / SEED.name).write_bytes(SEED.read_bytes())
    with Mitmdump(
        tmp_path,
        vcr_dir,
        "replay",
        reverse=f"https://{HOST}:{relay.port}",
        options=(f"ssl_verify_upstream_trusted_ca={ca}",),
    ) as p:
        got = requests(p.url)
    assert [g.split()[0] for g in got] == ["200", "404", "400", "404"]
    assert relay.connections == 0


def test_the_counter_does_count(tls_upstream, tmp_path):
    # Control: the same set-up in record mode does reach the upstream, so zero above means something.
    relay, ca = tls_upstream
    with Mitmdump(tmp_path, tmp_path / "recs", "record", options=(f"ssl_verify_upstream_trusted_ca={ca}",)) as p:
        conf_ca = str(tmp_path / "conf" / "mitmproxy-ca-cert.pem")
        curl("-x", p.url, "--cacert", conf_ca, f"https://{HOST}:{relay.port}/v1/models")
    assert relay.connections >= 1


# LLM calls llm-vcr does not replay (yet): in replay mode, answered by the proxy, whatever came before.
UNKNOWN_LLM_CALLS = [
    ("POST", "/v1beta/models/imagen-3.0-generate-002:predict"),
    ("POST", "/v1beta/cachedContents"),
    ("POST", "/v1/images/generations"),
    ("POST", "/v1/audio/speech"),
    ("POST", "/v1/audio/transcriptions"),
    ("POST", "/v1/files"),
    ("POST", "/v1/batches"),
    ("POST", "/v1/moderations"),
    ("GET", "/v1/responses/resp_0123"),
    ("POST", "/v1/messages/count_tokens"),
    ("POST", "/v1/complete"),
    ("POST", "/api/show"),
    ("POST", "/model/anthropic.claude-v2/invoke-async"),
    ("GET", "/v1/chat/completions"),  # a replayed resource, with a method replay does not serve
]
# Recognised resources spelled differently: they are chat completions, and replay answers them.
SPELLINGS = ["/V1/CHAT/COMPLETIONS", "/v1/Chat/Completions", "/v1/chat/completion%73", "/v1/chat/completions;x",
             "/v1/chat/completions/.", "/v1/x/../chat/completions"]  # fmt: skip


def _through(proxy_port: int, target: str, calls: list[tuple[str, str, bytes]]) -> list[tuple[int, str]]:
    """Requests in absolute form over ONE keep-alive connection to the proxy (so mitmproxy would reuse
    its upstream connection for any request it forwarded): (status, x-llm-vcr or error code) each."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=20)
    out = []
    for method, path, body in calls:
        conn.request(method, f"{target}{path}", body=body or None, headers={"content-type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        code = json.loads(data)["error"]["code"] if r.status == 404 else r.headers.get("x-llm-vcr", "")
        out.append((r.status, code))
    conn.close()
    return out


@pytest.mark.parametrize("order", ["non-LLM request first", "LLM requests first"])
def test_unknown_llm_endpoints_never_reach_the_upstream_in_either_order(order, tmp_path):
    from ..e2e.harness import KeepAliveUpstream

    up = KeepAliveUpstream()
    vcr_dir = tmp_path / "recs"
    vcr_dir.mkdir()
    (vcr_dir / SEED.name).write_bytes(SEED.read_bytes())
    health = [("GET", "/health", b"")]
    llm = [(m, p, b"{}") for m, p in UNKNOWN_LLM_CALLS] + [("POST", p, SEED_BODY.encode()) for p in SPELLINGS]
    calls = health + llm if order == "non-LLM request first" else llm + health
    try:
        with Mitmdump(tmp_path, vcr_dir, "replay") as p:
            got = _through(p.port, up.url, calls)
            conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=20)
            conn.request("GET", f"{up.url}/v1/realtime?model=gpt-realtime", headers={
                "connection": "Upgrade", "upgrade": "websocket", "sec-websocket-version": "13",
                "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=="})  # fmt: skip
            realtime = conn.getresponse().status
            report = p.stop()
    finally:
        up.close()
    by_path = dict(zip([c[1] for c in calls], got, strict=True))
    for _, path in UNKNOWN_LLM_CALLS:
        assert by_path[path] == (404, "not_replayed"), path
    for path in SPELLINGS:
        assert by_path[path] == (200, "replay"), path
    assert realtime == 404  # a Realtime WebSocket handshake with no recording: a miss, answered, never upgraded
    if order == "non-LLM request first":
        # Forwarded: nothing marked that host as an LLM API yet. Everything LLM-shaped after it, on the
        # same connection, was answered by the proxy.
        assert by_path["/health"] == (200, "") and up.requests == [("GET", "/health")]
    else:
        # The host served LLM calls in this run: in replay mode nothing more is sent there.
        assert by_path["/health"] == (404, "not_replayed") and up.requests == [] and up.connections == 0
    assert report["unsupported"] == len(UNKNOWN_LLM_CALLS) + (order == "LLM requests first")
    assert report["hits"] == len(SPELLINGS) and report["misses"] == 1  # the handshake: a session not recorded


def test_a_well_known_llm_host_is_never_contacted_over_https(tmp_path):
    # api.openai.com does not even need to resolve: the proxy answers before any dial.
    with Mitmdump(tmp_path, tmp_path / "recs", "replay") as p:
        conf_ca = str(tmp_path / "conf" / "mitmproxy-ca-cert.pem")
        got = [curl("-x", p.url, "--cacert", conf_ca, f"https://api.openai.com{path}").stdout
               for path in ("/v1/organization/usage", "/v1/realtime", "/")]  # fmt: skip
        report = p.stop()
    assert [g.split()[0] for g in got] == ["404", "404", "404"]
    assert report["unsupported"] == 3 and report["blocked"] == 0  # answered, not even dialled
