"""The recordings folder: index by request key, serve in order, write atomically.

Files are indexed by the key recomputed from each file's stored request, never by
trusting its name (other recorders' names do not always reproduce). Identical requests
recorded several times replay in file-name order; once exhausted, the last one repeats.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from llm_vcr.apis import LISTINGS, Resource
from llm_vcr.matching import explain, normalize
from llm_vcr.matching.explain import Explanation
from llm_vcr.matching.keys import canonical
from llm_vcr.store import files, index
from llm_vcr.store.files import shown
from llm_vcr.store.recording import Recording, RecordingError, ReplayResponse, listing_union

log = logging.getLogger("llm_vcr")
JSON = Any


def _natural(path: Path) -> tuple[object, ...]:
    # "…-10.json" after "…-9.json": sequence numbers compare as numbers.
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix()))


@dataclass
class LoadReport:
    loaded: int = 0
    other_apis: int = 0  # valid files for APIs this version does not replay (Ollama, Anthropic…)
    partial: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)


class Hit(NamedTuple):
    path: Path
    answer: ReplayResponse
    recording: Recording | None  # None for a listing's union


@dataclass
class Nearest:
    path: Path
    explanation: Explanation
    turns_agreeing: int = 0
    same_model: bool = False

    @property
    def diffs(self) -> list[str]:
        return self.explanation.differs_at


class RecordingStore:
    """The index of a folder (key -> files in replay order) and the recordings loaded so far.

    Only what matching needs is kept per file (see `index.Entry`); a recording is read on
    first use and kept, so replay does no disk work after the first hit of each file.
    """

    def __init__(self, root: Path, use_cache: bool = True, max_file: int = files.DEFAULT_MAX_FILE) -> None:
        self.root = root
        self.use_cache = use_cache
        self.max_file = max_file
        self._by_key: dict[str, list[Path]] = {}
        self._cursor: dict[str, int] = {}
        self._by_resource: dict[str, list[tuple[Path, str | None]]] = {}  # resource -> (path, model)
        self._loaded: dict[Path, Recording] = {}
        self._listings: dict[str, ReplayResponse] = {}  # listing resource name -> union, built on use
        self._partials: dict[str, list[Path]] = {}  # request key -> partial recordings (never served)
        self._write_lock = threading.Lock()
        self.report = LoadReport()

    # ---- loading -------------------------------------------------------------------

    def load(self) -> LoadReport:
        """(Re)index the folder. Bad files are reported and skipped, never fatal."""
        for d in (self._by_key, self._cursor, self._by_resource, self._loaded, self._listings, self._partials):
            d.clear()
        report = self.report = LoadReport()
        if not self.root.is_dir():
            return report
        _remove_stale_temp_files(self.root)
        cached = index.load_cache(self.root) if self.use_cache else {}
        found = files.scan(self.root, self.max_file)
        report.skipped.extend(found.skipped)
        todo = [name for rel, name, stamp in found.files if (hit := cached.get(rel)) is None or hit[0] != stamp]
        computed = index_files(todo, self.max_file)
        fresh: dict[str, tuple[index.Stamp, index.Entry]] = {}
        for rel, name, stamp in found.files:
            path = Path(name)
            got = computed.get(name)
            if got is None:
                entry = cached[rel][1]
            elif isinstance(got, str):
                report.skipped.append((path, got))
                continue
            else:
                entry = got
            fresh[rel] = (stamp, entry)
            if entry.partial:
                report.partial += 1
                if entry.key is not None:
                    self._partials.setdefault(entry.key, []).append(path)
            elif entry.key is None or entry.resource is None:
                report.other_apis += 1
            else:
                self._index(path, entry.key, entry.resource, entry.model)
                report.loaded += 1
        for paths in self._by_key.values():
            if len(paths) > 1:
                paths.sort(key=_natural)  # "…-10.json" after "…-9.json"
        report.skipped.sort()
        if self.use_cache and fresh != cached:
            index.save_cache(self.root, fresh)
        return report

    def _index(self, path: Path, key: str, resource: str, model: str | None) -> None:
        self._by_key.setdefault(key, []).append(path)
        self._by_resource.setdefault(resource, []).append((path, model))
        self._listings.pop(resource, None)  # a listing's union is rebuilt on next use

    def add(self, path: Path, rec: Recording) -> None:
        """Make a just-written recording servable (auto mode replays what it recorded)."""
        if rec.partial is not None and rec.key is not None:
            self._partials.setdefault(rec.key, []).append(path)
        if rec.partial is None and rec.key is not None and rec.resource is not None:
            self._loaded[path] = rec
            self._index(path, rec.key, rec.resource.name, rec.model)
            self.report.loaded += 1

    def recording(self, path: Path) -> Recording | None:
        """The recording in `path`, read on first use; None if it became unreadable since indexing."""
        rec = self._loaded.get(path)
        if rec is None:
            try:
                rec = self._loaded[path] = read_file(path, self.max_file)
            except RecordingError as e:
                log.error(f"llm-vcr: {shown(path)} can no longer be read: {e}")
                return None
        return rec

    # ---- lookup --------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def paths(self) -> list[Path]:
        return [p for seq in self._by_key.values() for p in seq]

    def entries(self) -> dict[str, list[tuple[Path, Recording]]]:
        """Every servable recording by key, each list in replay order (reads every file: for tools)."""
        out: dict[str, list[tuple[Path, Recording]]] = {}
        for key in self._by_key:
            if recs := self.recordings_of(key):
                out[key] = recs
        return out

    def take(self, key: str) -> Hit | None:
        """The next recording for `key` in order (the last one repeats), or None on a miss."""
        paths = self._by_key.get(key)
        if not paths:
            return None
        first = self.recording(paths[0])
        if first is not None and first.resource in LISTINGS:
            name = first.resource.name
            if name not in self._listings:
                recs = [r for p in paths if (r := self.recording(p)) is not None]
                self._listings[name] = listing_union(first.resource, recs)
            return Hit(paths[0], self._listings[name], None)
        i = self._cursor.get(key, 0)
        self._cursor[key] = i + 1
        path = paths[min(i, len(paths) - 1)]
        rec = self.recording(path)
        return Hit(path, rec.replay, rec) if rec is not None else None

    def recordings_of(self, key: str) -> list[tuple[Path, Recording]]:
        """Every servable recording of `key`, in replay order (WebSocket sessions pick among them)."""
        return [(p, r) for p in self._by_key.get(key, ()) if (r := self.recording(p)) is not None]

    def nearest(self, resource: Resource, body: object, limit: int = 2000) -> Nearest | None:
        """The recording of the same resource that agrees longest on the conversation, to explain a miss
        (see `matching.explain`). Bodies are compared as keys see them (random ids numbered).

        Candidates with the same model come first; at most `limit` are read (misses are rare,
        but a folder may hold 100k files).
        """
        model = body.get("model") if isinstance(body, dict) else None
        candidates = self._by_resource.get(resource.name, [])
        same = [p for p, m in candidates if m == model]
        rules = normalize.active()
        want = normalize.normalize(resource.api, resource.name, canonical(body), rules)
        best: tuple[explain.Score, Path, JSON] | None = None
        for path in (same or [p for p, _ in candidates])[:limit]:
            rec = self.recording(path)
            if rec is None:
                continue
            have = normalize.normalize(resource.api, resource.name, canonical(rec.body), rules)
            rank = explain.score(want, have)
            if best is None or rank > best[0]:
                best = (rank, path, have)
        if best is None:
            return None
        rank, path, have = best
        return Nearest(path, explain.explain(want, have), rank.turns_agreeing, rank.same_model)

    def rewind(self) -> None:
        """Replay every sequence from its first recording again (a test that starts over)."""
        self._cursor.clear()

    def partial_of(self, key: str) -> list[Path]:
        """Partial recordings (never replayed) of a request key: a miss says when they exist."""
        return list(self._partials.get(key, ()))

    # ---- writing -------------------------------------------------------------------

    def write(self, rec: Recording) -> Path:
        """Atomically write `rec` under a fresh sequence number; safe across processes.

        Blocking: call it from a worker thread, never on mitmproxy's event loop.
        """
        assert rec.key is not None and rec.resource is not None
        self.root.mkdir(parents=True, exist_ok=True)
        data = rec.dumps()
        slug = re.sub(r"[/:]", "_", rec.resource.name)  # a portable file name (no ":" on Windows)
        suffix = ".partial.json" if rec.partial else ".json"
        with self._write_lock:
            tmp = self.root / f".tmp-{os.getpid()}-{threading.get_ident()}-{rec.key}"
            try:  # a failed write (full disk, read-only folder) leaves no temporary file behind
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                seq = len(self._by_key.get(rec.key, ()))  # a hint: the link below settles it
                while True:
                    final = self.root / f"{slug}-{rec.key}-{seq:03d}{suffix}"
                    try:
                        os.link(tmp, final)  # atomic and never clobbers another writer's file
                        return final
                    except FileExistsError:
                        seq += 1
            finally:
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    pass  # the original error is what matters


PARALLEL_FROM = 20_000  # files to index before a process pool pays for its start-up (~0.3 s a worker)


def _entries(
    names: list[str], max_file: int = files.DEFAULT_MAX_FILE, rules: normalize.Rules | None = None
) -> list[tuple[str, index.Entry | str]]:
    """Index entries (or the reason a file is unusable) for files: the per-file indexing work."""
    if rules is not None:  # a worker process: keys under the parent's rules
        normalize.set_active(rules)
    out: list[tuple[str, index.Entry | str]] = []
    for name in names:
        try:
            rec = read_file(name, max_file)
        except RecordingError as e:
            out.append((name, str(e)))
            continue
        out.append((name, index.Entry(rec.key, rec.resource.name if rec.resource else None, rec.model,
                                      rec.partial is not None)))  # fmt: skip
    return out


def index_files(names: list[str], max_file: int = files.DEFAULT_MAX_FILE) -> dict[str, index.Entry | str]:
    """Index many files, on every core when there are enough of them (a first start over 100k files)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(names) < PARALLEL_FROM or workers < 2:
        return dict(_entries(names, max_file))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1000, len(names) // (workers * 4))
    batches = [names[i : i + size] for i in range(0, len(names), size)]
    try:
        # spawn, not fork: the proxy has threads, and a forked child would inherit their locks.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            work = functools.partial(_entries, max_file=max_file, rules=normalize.active())
            return {name: got for batch in pool.map(work, batches) for name, got in batch}
    except Exception as e:  # a pool that cannot start costs time, never correctness
        log.warning(f"llm-vcr: indexing in {workers} processes failed ({e}); indexing in this one")
        return dict(_entries(names, max_file))


def read_file(path: Path | str, max_file: int = files.DEFAULT_MAX_FILE) -> Recording:
    """A recording file, or RecordingError with a one-line reason: never another exception, whatever
    the file holds (wrong types, absurd nesting, a FIFO, a huge file)."""
    try:
        raw = files.read_bytes(path, max_file)
    except files.UnreadableFile as e:
        raise RecordingError(str(e)) from e
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise RecordingError(f"not valid JSON ({e})") from e
    try:
        rec = Recording.from_json(doc)
        _ = rec.key  # computed now: a body too deep to key is an unusable file, not a later crash
        return rec
    except RecordingError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        raise RecordingError(f"malformed recording ({type(e).__name__}: {e})") from e


def _remove_stale_temp_files(root: Path) -> None:
    """Temp files of writers that died (kill -9) before publishing: never published, safe to drop."""
    try:
        temps = list(root.glob(".tmp-*"))
    except OSError:
        return
    for tmp in temps:
        try:
            pid = int(tmp.name.split("-")[1])
            os.kill(pid, 0)  # still running: its write may be in progress
        except ProcessLookupError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # a folder named like a temp file, or no permission: leave it
        except (ValueError, IndexError, OSError):
            pass
