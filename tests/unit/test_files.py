import os

import pytest

from llm_vcr.store import files


def test_scan_reads_only_regular_files_inside_the_folder(tmp_path):
    d = tmp_path / "recs"
    (d / "sub").mkdir(parents=True)
    (d / "a.json").write_text("{}")
    (d / "sub" / "b.json").write_text("{}")
    (d / ".hidden").mkdir()
    (d / ".hidden" / "c.json").write_text("{}")
    (d / "notes.txt").write_text("x")
    os.mkfifo(d / "fifo.json")
    (d / "loop.json").symlink_to("loop.json")
    (d / "sub" / "up").symlink_to("..")
    (d / "inside.json").symlink_to("a.json")
    (tmp_path / "out.json").write_text("{}")
    (d / "out.json").symlink_to(tmp_path / "out.json")
    with open(d / "big.json", "wb") as f:
        f.truncate(3000)
    found = files.scan(d, max_file=2000)
    assert sorted(rel for rel, _, _ in found.files) == ["a.json", "inside.json", "sub/b.json"]
    reasons = {p.name: r for p, r in found.skipped}
    assert set(reasons) == {"fifo.json", "loop.json", "up", "out.json", "big.json"}
    assert "FIFO" in reasons["fifo.json"] and "link loop" in reasons["loop.json"]
    assert "already read" in reasons["up"] and "out of the recordings folder" in reasons["out.json"]
    assert "vcr_max_file_mb" in reasons["big.json"]


def test_read_bytes_never_blocks_on_a_fifo_and_respects_the_limit(tmp_path):
    os.mkfifo(tmp_path / "f.json")
    with pytest.raises(files.UnreadableFile, match="FIFO"):
        files.read_bytes(tmp_path / "f.json")
    (tmp_path / "g.json").write_bytes(b"x" * 10)
    with pytest.raises(files.UnreadableFile, match="limit"):
        files.read_bytes(tmp_path / "g.json", max_file=5)
    with pytest.raises(files.UnreadableFile, match="cannot open"):
        files.read_bytes(tmp_path / "missing.json")


def test_names_are_shown_escaped():
    assert files.shown("plain/café.json") == "plain/café.json"
    assert files.shown("bad\x1b[31m\n.json") == "bad\\x1b[31m\\n.json"
    assert files.shown(None) == "?"
