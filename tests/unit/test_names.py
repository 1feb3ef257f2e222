"""Opening a big folder by file names (store/names.py, RecordingStore.open_lazily): a name is only a
claim, checked against the file's content before it is served; everything the names cannot settle waits
for the background scan, whose index then replaces the claims. The scan is held back here (its
indexing runs in this process and blocks on an event), so each state is observed, not raced."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading

import pytest

from llm_vcr.store import PENDING, RecordingStore, building, names

from ..conftest import SEED
from .test_store import answer_of, chat


@pytest.fixture
def held(monkeypatch):
    """Hold the background scan until `release.set()` (and run it in this process, where it is held)."""
    release = threading.Event()
    monkeypatch.setattr(building, "build_elsewhere", lambda *a, **k: release.wait(10) and building.build(*a, **k))
    return release


def written(folder, *questions: str) -> list:
    writer = RecordingStore(folder, use_cache=False)
    return [writer.write(chat(q, f"answer to {q}")) for q in questions]


def test_names_claim_keys_without_reading_files(tmp_path):
    a, b = written(tmp_path, "a", "b")
    (tmp_path / "sub").mkdir()
    shutil.copy(a, tmp_path / "sub" / a.name.replace("-000", "-001"))
    (tmp_path / f"chat_completions-{'0' * 16}-000.partial.json").write_text("{}")
    (tmp_path / SEED.name).write_bytes(SEED.read_bytes())  # another recorder's name
    os.symlink(b, tmp_path / "link.json")
    (tmp_path / ".hidden").mkdir()
    shutil.copy(a, tmp_path / ".hidden" / a.name)
    listing = names.list_by_name(tmp_path)
    assert sorted(len(v) for v in listing.claims.values()) == [1, 2]
    assert list(listing.partial_claims) == ["0" * 16] and listing.foreign == 2 and listing.files == 6


def test_a_named_file_is_served_before_the_scan_once_its_content_agrees(tmp_path, held):
    _, b = written(tmp_path, "a", "b")
    renamed = tmp_path / b.name.replace(chat("b", "").key, chat("c", "").key)
    b.rename(renamed)  # its name now claims the key of "c"; its content is still "b"
    s = RecordingStore(tmp_path, use_cache=False)
    assert s.open_lazily(lazy_from=1) == 2 and not s.ready
    assert answer_of(s.take(chat("a", "").key).answer) == "answer to a"  # served now, content checked
    assert s.take(chat("a", "").key) is PENDING  # used up: whether the last repeats is the scan's to say
    assert s.take(chat("c", "").key) is PENDING  # the name does not hold
    assert s.take(chat("b", "").key) is PENDING  # no name claims it: the scan may find it
    held.set()
    s.wait_ready()
    assert answer_of(s.take(chat("b", "").key).answer) == "answer to b"  # found by content
    assert s.take(chat("c", "").key) is None  # a miss, now that every file is known
    assert answer_of(s.take(chat("a", "").key).answer) == "answer to a"  # the last one repeats


def test_files_of_other_recorders_make_every_request_wait_for_the_scan(tmp_path, held):
    written(tmp_path, "a")
    (tmp_path / SEED.name).write_bytes(SEED.read_bytes())  # may hold any request, earlier in the order
    s = RecordingStore(tmp_path, use_cache=False)
    s.open_lazily(lazy_from=1)
    assert s.take(chat("a", "").key) is PENDING

    async def wait() -> bool:
        waiter = asyncio.ensure_future(s.until_ready())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        held.set()
        await asyncio.wait_for(waiter, 10)
        return s.ready

    assert asyncio.run(wait())
    assert answer_of(s.take(chat("a", "").key).answer) == "answer to a"


def test_a_recording_made_during_the_scan_is_kept_and_small_folders_load_at_once(tmp_path, held):
    written(tmp_path, "a")
    s = RecordingStore(tmp_path, use_cache=False)
    s.open_lazily(lazy_from=1)
    rec = chat("new", "fresh")
    s.add(s.write(rec), rec)
    held.set()
    s.wait_ready()
    assert answer_of(s.take(rec.key).answer) == "fresh" and len(s) == 2

    small = RecordingStore(tmp_path, use_cache=False)
    small.open_lazily(lazy_from=100)
    assert small.ready and len(small) == 2


def test_the_background_index_is_built_in_a_child_process_with_the_same_result(tmp_path):
    written(tmp_path, "a", "b", "b2")
    (tmp_path / "bad.json").write_text("{")
    here, there = building.build(tmp_path, use_cache=False), building.build_elsewhere(tmp_path, use_cache=False)
    assert there.by_key == here.by_key and there.report == here.report and len(there.by_key) == 3
