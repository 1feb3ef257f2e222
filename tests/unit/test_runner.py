import socket
import sys
from pathlib import Path

from llm_vcr.cli.run import ADDON, ProxySpec, run, summary


def test_regular_and_reverse_commands():
    regular = ProxySpec(mode="record", folder=Path("recs"), options=["ssl_insecure=true"]).command()
    assert regular[1:5] == ["--listen-host", "127.0.0.1", "--listen-port", "0"]
    assert ["-s", str(ADDON)] == regular[5:7]
    assert ["--set", "vcr_mode=record", "--set", "vcr_dir=recs", "--set", "ssl_insecure=true"] == regular[7:13]
    reverse = ProxySpec(upstream="https://api.openai.com", port=8080).command(Path("p.json"), Path("r.json"))
    assert reverse[1:3] == ["--mode", "reverse:https://api.openai.com@127.0.0.1:8080"]
    assert "vcr_port_file=p.json" in reverse and "vcr_report=r.json" in reverse


def test_summary_names_misses():
    spec = ProxySpec()
    line = summary({"hits": 3, "misses": 1, "miss_keys": ["abc"], "recorded": 0}, spec)
    assert (
        line == "llm-vcr: 3 replayed, 1 missed, 0 recorded (replay mode, recordings); misses: abc (see the "
        "proxy log above)"
    )
    assert "wrote no report" in summary({}, spec)


def test_a_proxy_that_cannot_start_is_a_clear_error_not_a_hang(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        spec = ProxySpec(folder=tmp_path, confdir=tmp_path / "conf", port=taken.getsockname()[1])
        assert run(spec, [sys.executable, "-c", "print('never ran')"]) == 70
    out = capsys.readouterr()
    assert "never ran" not in out.out
    assert "the proxy did not start: mitmdump exited" in out.err and "address already in use" in out.err.lower()


def test_run_returns_the_command_status(tmp_path, capsys):
    spec = ProxySpec(folder=tmp_path, confdir=tmp_path / "conf")
    assert run(spec, [sys.executable, "-c", "import sys; sys.exit(3)"]) == 3
    assert "llm-vcr: 0 replayed, 0 missed, 0 recorded" in capsys.readouterr().err
