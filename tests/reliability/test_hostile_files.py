"""A recordings folder with everything a repository can hold: one bad file never stops or hangs the
proxy or a command, each is reported in one line (escaped), and the good recordings still serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import SEED
from ..e2e.harness import Mitmdump, clean_env
from .test_offline import SEED_BODY, curl

HOSTILE_NAME = "bad\x1b[31mname\n.json"


@pytest.fixture
def hostile_dir(tmp_path) -> Path:
    d = tmp_path / "recs"
    (d / "nested").mkdir(parents=True)
    (d / SEED.name).write_bytes(SEED.read_bytes())
    doc = json.loads(SEED.read_text())
    doc["response"]["status"] = "abc"
    (d / "status-abc.json").write_text(json.dumps(doc))
    doc = json.loads(SEED.read_text())
    doc["request"]["url"] = 5
    (d / "url-number.json").write_text(json.dumps(doc))
    doc = json.loads(SEED.read_text())
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    doc["request"]["body"]["messages"][0]["content"] = deep
    (d / "deep.json").write_text(json.dumps(doc))
    (d / "loop.json").symlink_to("loop.json")
    (d / "nested" / "self").symlink_to("..")  # a link to an ancestor: a cycle
    (d / "here").symlink_to(".")
    outside = tmp_path / "secret.json"
    outside.write_text(SEED.read_text())
    (d / "outside.json").symlink_to(outside)
    (d / "out-folder").symlink_to(tmp_path)
    os.mkfifo(d / "fifo.json")
    with open(d / "huge.json", "wb") as f:  # sparse: 2 GB on paper, nothing on disk
        f.truncate(2 * 1024**3)
    (d / HOSTILE_NAME).write_text("{")
    return d


SKIPPED = {
    "status-abc.json": '"response.status" is not an HTTP status',
    "url-number.json": '"request.url" is missing or not a string',
    "deep.json": "nested deeper than 128 levels",
    "loop.json": "a broken link or a link loop",
    "self": "a link to a folder already read (a loop)",
    "here": "a link to a folder already read (a loop)",
    "outside.json": "a link out of the recordings folder",
    "out-folder": "a link out of the recordings folder",
    "fifo.json": "a FIFO, not a regular file",
    "huge.json": "over the 268 MB limit (vcr_max_file_mb): not read",
}


def test_the_proxy_starts_serves_and_reports_each_bad_file(hostile_dir, tmp_path):
    with Mitmdump(tmp_path, hostile_dir, "replay") as p:
        got = curl("-x", p.url, "http://api.openai.invalid/v1/chat/completions", "-H",
                   "content-type: application/json", "--data-binary", SEED_BODY)  # fmt: skip
        log = p.log()
    assert got.stdout.startswith("200"), log
    assert "Traceback" not in log and "\x1b" not in log
    for name, reason in SKIPPED.items():
        assert any(name in line and reason in line for line in log.splitlines()), (name, log)
    assert "bad\\x1b[31mname\\n.json: not valid JSON" in log  # escaped: cannot forge lines or colours
    assert "1 recordings in" in log and f"({len(SKIPPED) + 1} skipped)" in log


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "llm_vcr.cli", *args], cwd=cwd, env=clean_env(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout and "\x1b" not in done.stdout + done.stderr
    return done


def test_every_command_reports_bad_files_in_one_line(hostile_dir, tmp_path):
    where = ("--dir", str(hostile_dir))
    ls = cli("ls", *where, cwd=tmp_path)
    assert ls.returncode == 0 and SEED.name in ls.stdout
    assert ls.stdout.count("skipped:") + ls.stdout.count("unreadable:") == len(SKIPPED) + 1

    verify = cli("verify", *where, cwd=tmp_path)
    assert verify.returncode == 1
    for name, reason in SKIPPED.items():
        assert any(name in line and reason in line for line in verify.stdout.splitlines()), (name, verify.stdout)
    assert "with problems" in verify.stdout and SEED.name not in verify.stdout

    for name in ("fifo.json", "status-abc.json", "deep.json", "loop.json", "huge.json"):
        show = cli("show", str(hostile_dir / name), cwd=tmp_path)
        assert show.returncode == 1 and name in show.stderr and len(show.stderr.splitlines()) == 1, show.stderr

    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dir": str(hostile_dir), "unused": ["fifo.json", "loop.json", "huge.json"]}))
    prune = cli("prune", "--report", str(report), "--apply", cwd=tmp_path)
    assert prune.returncode == 0 and (hostile_dir / "fifo.json").exists()  # only regular files are deleted


def test_show_into_a_closed_pipe_is_quiet(tmp_path):
    done = subprocess.run(f"{sys.executable} -m llm_vcr.cli show {SEED} | head -1", shell=True, cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.startswith("== ") and done.stderr == ""
