import os
import socket
import sys
from pathlib import Path

import pytest

from llm_vcr.cli.run import ADDON, EMPTY_RUN_HELP, ProxySpec, parse_sets, run, strict_problems, summary


def sets_of(command: list[str]) -> list[str]:
    return [command[i + 1] for i, a in enumerate(command) if a == "--set"]


def test_regular_and_reverse_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    regular = ProxySpec(mode="record", folder=Path("recs"), options=["ssl_insecure=true"]).command()
    assert regular[1:5] == ["--listen-host", "127.0.0.1", "--listen-port", "0"]
    assert ["-s", str(ADDON)] == regular[5:7]
    # Relative paths are the caller's: mitmdump gets them absolute.
    assert sets_of(regular) == ["vcr_mode=record", f"vcr_dir={tmp_path / 'recs'}", "ssl_insecure=true"]
    reverse = ProxySpec(upstream="https://api.openai.com", port=8080).command(Path("p.json"), Path("r.json"))
    assert reverse[1:3] == ["--mode", "reverse:https://api.openai.com@127.0.0.1:8080"]
    assert f"vcr_port_file={tmp_path / 'p.json'}" in sets_of(reverse)
    assert f"vcr_report={tmp_path / 'r.json'}" in sets_of(reverse)


def test_the_users_set_wins_and_every_option_is_set_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = ProxySpec(
        folder=Path("recordings"),
        confdir=Path("conf"),
        options=["vcr_report=report.json", "vcr_dir=other", "ssl_verify_upstream_trusted_ca=ca.pem", "vcr_mode=auto"],
    )
    got = sets_of(spec.command(Path("/tmp/port.json"), Path("/tmp/ours.json")))
    names = [s.split("=", 1)[0] for s in got]
    assert len(names) == len(set(names)), got
    listed = ProxySpec(options=["vcr_ignore=a.b", "vcr_ignore=c.d"]).settings()
    assert [v for k, v in listed if k == "vcr_ignore"] == ["a.b", "c.d"]  # list options keep every value
    assert f"vcr_report={tmp_path / 'report.json'}" in got and f"vcr_dir={tmp_path / 'other'}" in got
    assert f"ssl_verify_upstream_trusted_ca={tmp_path / 'ca.pem'}" in got and f"confdir={tmp_path / 'conf'}" in got
    assert spec.effective_mode == "auto" and spec.effective_folder == tmp_path / "other"
    assert spec.ca_pem == tmp_path / "conf" / "mitmproxy-ca-cert.pem"


def test_a_set_without_a_value_is_a_clear_error():
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_sets(["vcr_report"])


def test_summary_names_misses_and_losses():
    spec = ProxySpec()
    line = summary({"hits": 3, "misses": 1, "miss_keys": ["abc"], "recorded": 0}, spec)
    assert line == (
        "llm-vcr: 3 replayed, 1 missed, 0 recorded (replay mode, recordings); misses: abc (see the proxy log above)"
    )
    lost = summary({"recorded": 2, "write_failed": 3, "unsupported": 1}, ProxySpec(mode="record"))
    assert "3 NOT WRITTEN (disk errors)" in lost and "1 to endpoints not replayed yet" in lost
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


def test_a_record_run_that_saw_no_llm_call_says_why_and_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = ProxySpec(mode="record", confdir=tmp_path / "conf")
    assert run(spec, [sys.executable, "-c", "pass"]) == 3
    err = capsys.readouterr().err
    assert EMPTY_RUN_HELP.splitlines()[0].format(other=0) in err and "aiohttp" in err and "--upstream" in err
    assert run(spec, [sys.executable, "-c", "pass"], allow_empty=True) == 0
    assert not os.path.exists(tmp_path / "recordings")  # nothing to record: no folder made


def test_strict_fails_on_misses_in_or_out_of_scopes_and_on_a_scopes_unused_recordings():
    assert strict_problems({"misses": 0}) == []
    assert strict_problems({"misses": 2, "unused": ["a.json"]}) == ["2 missed outside any test scope"]
    scoped = {"t1": {"misses": 1, "unused": []}, "t2": {"misses": 0, "unused": ["t2/x.json"]}}
    assert strict_problems({"misses": 1, "scopes": scoped}) == ["t1: 1 missed", "t2: 1 recordings unused (t2/x.json…)"]
    assert strict_problems({"misses": 3, "scopes": scoped})[0] == "2 missed outside any test scope"
