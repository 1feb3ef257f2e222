"""Replay never opens a connection to the upstream: regular proxy with CONNECT over HTTPS, HTTP/2,
and reverse mode; hits, misses and malformed requests alike. The upstream counts connections."""

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
