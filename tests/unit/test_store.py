import json
import shutil
from pathlib import Path

import orjson

from llm_vcr.apis import CHAT, envelopes
from llm_vcr.store import RecordingStore
from llm_vcr.store.recording import Recording

from ..conftest import SEED


def chat(content: str, answer: str) -> Recording:
    body = {"model": "m", "messages": [{"role": "user", "content": content}]}
    data = {"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": answer}}]}
    return Recording.new(
        method="POST",
        url="http://h/v1/chat/completions",
        body=body,
        resource=CHAT,
        is_streaming=False,
        response_body=envelopes.json_body(CHAT, data),
    )


def answer_of(replay) -> str:
    return orjson.loads(replay.body)["choices"][0]["message"]["content"]


def test_identical_requests_replay_in_order_then_the_last_repeats(tmp_path):
    writer = RecordingStore(tmp_path)
    for i in range(3):
        rec = chat("hi", f"answer {i}")
        writer.add(writer.write(rec), rec)
    names = sorted(p.name for p in tmp_path.iterdir())
    key = chat("hi", "").key
    assert names == [f"chat_completions-{key}-{i:03d}.json" for i in range(3)]

    store = RecordingStore(tmp_path)
    assert store.load().loaded == 3
    got = [answer_of(store.take(key)[1]) for _ in range(5)]
    assert got == ["answer 0", "answer 1", "answer 2", "answer 2", "answer 2"]


def test_sequence_numbers_sort_numerically(tmp_path):
    store = RecordingStore(tmp_path)
    for i in range(12):
        store.write(chat("hi", f"answer {i}"))
    store.load()
    key = chat("hi", "").key
    assert [answer_of(store.take(key)[1]) for _ in range(12)] == [f"answer {i}" for i in range(12)]


def test_write_never_clobbers_a_file_another_process_wrote(tmp_path):
    a, b = RecordingStore(tmp_path), RecordingStore(tmp_path)  # two proxies, one folder
    pa, pb = a.write(chat("hi", "from a")), b.write(chat("hi", "from b"))
    assert pa != pb and {answer_of(Recording.from_json(json.loads(p.read_text())).replay) for p in (pa, pb)} == {
        "from a",
        "from b",
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_matching_uses_the_stored_request_not_the_file_name(tmp_path):
    shutil.copy(SEED, tmp_path / "misleading-name.json")
    store = RecordingStore(tmp_path)
    store.load()
    seed = Recording.from_json(json.loads(SEED.read_text()))
    assert store.take(seed.key) is not None


def test_bad_files_are_skipped_with_a_reason_and_the_rest_loads(tmp_path):
    shutil.copy(SEED, tmp_path / "good.json")
    (tmp_path / "truncated.json").write_bytes(SEED.read_bytes()[:500])
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.json").write_text("{")
    report = RecordingStore(tmp_path).load()
    assert report.loaded == 1
    reasons = {p.name: r for p, r in report.skipped}
    assert set(reasons) == {"truncated.json", "list.json", "binary.json"}
    assert "not valid JSON" in reasons["truncated.json"] and "not a JSON object" in reasons["list.json"]


def test_partial_recordings_are_kept_but_never_served(tmp_path):
    store = RecordingStore(tmp_path)
    rec = chat("hi", "cut")
    rec.partial = "the stream ended before data: [DONE]"
    path = store.write(rec)
    assert path.name.endswith(".partial.json")
    report = store.load()
    assert (report.loaded, report.partial) == (0, 1)
    assert store.take(rec.key) is None


def test_nearest_names_what_differs(tmp_path):
    store = RecordingStore(tmp_path)
    for content in ("hello there", "something else entirely"):
        store.write(chat(content, "x"))
    store.load()
    near = store.nearest(CHAT, {"model": "m", "messages": [{"role": "user", "content": "hello there!"}]})
    assert near is not None and near.diffs == ['messages[0].content (request "hello there!", recording "hello there")']
    assert orjson.loads(near.path.read_bytes())["request"]["body"]["messages"][0]["content"] == "hello there"


def test_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    import os
    import subprocess

    child = subprocess.Popen(["sleep", "0"])
    child.wait()
    (tmp_path / f".tmp-{child.pid}-1-abc").write_text("{")
    (tmp_path / f".tmp-{os.getpid()}-1-def").write_text("{")
    RecordingStore(tmp_path).load()
    assert [p.name for p in tmp_path.iterdir()] == [f".tmp-{os.getpid()}-1-def"]


def test_the_index_cache_spares_reading_files_and_notices_changes(tmp_path, monkeypatch):
    import os

    from llm_vcr.store import index
    from llm_vcr.store import reading as store

    for i in range(3):
        RecordingStore(tmp_path).write(chat(f"q{i}", "a"))
    assert RecordingStore(tmp_path).load().loaded == 3  # reads every file, fills the cache
    assert index.cache_path(tmp_path).exists() and not index.cache_path(tmp_path).is_relative_to(tmp_path)

    reads = []
    real = store.read_file
    monkeypatch.setattr(store, "read_file", lambda p, *a: reads.append(Path(p).name) or real(p, *a))
    s = RecordingStore(tmp_path)
    assert s.load().loaded == 3 and reads == []  # nothing read: the cache knew every file

    changed = sorted(tmp_path.glob("*.json"))[0]
    changed.write_bytes(chat("edited", "a").dumps())
    os.utime(changed, ns=(1, 1))
    assert s.load().loaded == 3 and reads == [changed.name]  # only the changed file is read again
    assert s.take(chat("edited", "").key) is not None  # and its new key is what matches

    monkeypatch.setattr(index, "CODE_VERSION", "another")  # the code that computes keys changed
    reads.clear()
    assert s.load().loaded == 3 and len(reads) == 3


def test_recordings_are_read_on_first_use_only(tmp_path, monkeypatch):
    from llm_vcr.store import folder as store

    RecordingStore(tmp_path).write(chat("hi", "x"))
    s = RecordingStore(tmp_path, use_cache=False)
    s.load()
    reads = []
    real = store.read_file
    monkeypatch.setattr(store, "read_file", lambda p, *a: reads.append(p) or real(p, *a))
    key = chat("hi", "").key
    for _ in range(3):
        assert s.take(key) is not None
    assert len(reads) == 1


def test_recordings_kept_in_memory_are_bounded_and_served_again_from_their_files(tmp_path, monkeypatch):
    from llm_vcr.store import folder

    for i in range(20):
        RecordingStore(tmp_path).write(chat(f"q{i}", f"a{i}"))
    size = max(p.stat().st_size for p in tmp_path.glob("*.json"))
    monkeypatch.setattr(folder, "LOADED_BYTES", 5 * size)  # about five recordings
    s = RecordingStore(tmp_path, use_cache=False)
    s.load()
    keys = [chat(f"q{i}", "").key for i in range(20)]
    for _ in range(2):  # the second round re-reads what the first let go
        for i, key in enumerate(keys):
            assert answer_of(s.take(key)[1]) == f"a{i}"
            s.rewind()
            assert 1 <= len(s._loaded) <= 5 and s._loaded_bytes <= 5 * size
    assert s._loaded_bytes == sum(size for _, size in s._loaded.values())


def test_many_files_are_indexed_in_a_process_pool_with_the_same_result(tmp_path, monkeypatch):
    from llm_vcr.store import reading as store

    for i in range(30):
        RecordingStore(tmp_path).write(chat(f"q{i}", "a"))
    (tmp_path / "bad.json").write_text("{")
    serial = RecordingStore(tmp_path, use_cache=False)
    serial_report = serial.load()
    monkeypatch.setattr(store, "PARALLEL_FROM", 10)
    pooled = RecordingStore(tmp_path, use_cache=False)
    pooled_report = pooled.load()
    assert pooled_report == serial_report and pooled_report.loaded == 30 and len(pooled_report.skipped) == 1
    assert pooled.entries().keys() == serial.entries().keys()
