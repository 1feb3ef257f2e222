"""Record through a real mitmdump in front of the real engine, stop the upstream, replay."""

import pytest

from .harness import Mitmdump
from .scenarios import API_KEY, check_meaningful, client, run_all

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("proxy_mode", ["reverse", "regular"])
def test_python_sdk_record_then_replay_offline(proxy_mode, upstream, vcr_dir, tmp_path):
    def start(mode):
        if proxy_mode == "reverse":
            p = Mitmdump(tmp_path, vcr_dir, mode, reverse=upstream.url)
            return p, client(f"{p.url}/v1")
        p = Mitmdump(tmp_path, vcr_dir, mode)
        return p, client(f"{upstream.url}/v1", proxy=p.url)

    proxy, c = start("record")
    with proxy:
        recorded = run_all(c)
    check_meaningful(recorded)
    assert upstream.connections > 0
    files = sorted(vcr_dir.glob("*.json"))
    assert len(files) == 6 and not list(vcr_dir.glob("*.partial.json"))
    for f in files:
        assert API_KEY not in f.read_text() and "authorization" not in f.read_text().lower()

    upstream.forwarding = False  # the upstream is gone; any attempt would still be counted
    before = upstream.connections
    proxy, c = start("replay")
    with proxy:
        replayed = run_all(c)
        replayed_again = run_all(c)  # sequences exhausted: the last recording repeats
    assert upstream.connections == before, "replay contacted the upstream"
    assert replayed == recorded  # every chunk, tool call, id and final text
    assert replayed_again == recorded
    assert "12 replayed, 0 missed" in proxy.log()


def test_identical_requests_replay_in_recorded_order(upstream, vcr_dir, tmp_path):
    # The same request three times: three upstream answers (each id is unique), replayed in order.
    body = dict(model="smollm2", messages=[{"role": "user", "content": "Say a word."}], max_tokens=4)
    with Mitmdump(tmp_path, vcr_dir, "record", reverse=upstream.url) as p:
        c = client(f"{p.url}/v1")
        live = [c.chat.completions.create(**body).id for _ in range(3)]
    assert len(set(live)) == 3
    assert len(list(vcr_dir.glob("chat_completions-*.json"))) == 3
    upstream.forwarding = False
    with Mitmdump(tmp_path, vcr_dir, "replay", reverse=upstream.url) as p:
        c = client(f"{p.url}/v1")
        again = [c.chat.completions.create(**body).id for _ in range(4)]
    assert again == live + live[-1:]
