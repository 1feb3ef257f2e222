"""The recordings folder: index by request key, serve in order, write atomically.

Files are indexed by the key recomputed from each file's stored request, never by
trusting its name (other recorders' names do not always reproduce). Identical requests
recorded several times replay in file-name order; once exhausted, the last one repeats.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from llm_vcr.apis import LISTINGS, Resource
from llm_vcr.matching import explain, normalize
from llm_vcr.matching.explain import Explanation
from llm_vcr.matching.keys import canonical
from llm_vcr.store import building, files, names
from llm_vcr.store.building import LoadReport
from llm_vcr.store.files import shown
from llm_vcr.store.reading import read_file
from llm_vcr.store.recording import Recording, RecordingError, ReplayResponse, listing_union

log = logging.getLogger("llm_vcr")
JSON = Any


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


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Pending:
    """`take`'s answer while a lazily opened folder is still being indexed and the file names alone
    cannot settle the request: ask again once `until_ready()` returns."""

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()
LAZY_FROM = 5000  # files from which the proxy indexes by name first and verifies in the background


@functools.lru_cache(maxsize=4096)
def _as_path(path: str) -> Path:
    # The same Path object for each hit of a file: its str() and hash, which every hit uses, are cached in it.
    return Path(path)


LOADED_BYTES = 32 * 2**20  # recordings kept read, by file size: some 300 MB of Python objects at most


class RecordingStore:
    """The index of a folder (key -> files in replay order) and the recordings loaded so far.

    Only what matching needs is kept per file (see `index.Entry`); a recording is read on
    first use and kept, so replay does no disk work after the first hit of each file.

    `load()` indexes every file by content before returning (the commands, small folders). The proxy
    opens big folders with `open_lazily()`: the names are listed at once (`names.py`) and a background
    thread indexes by content; until it is done, a request is served from a file whose name claims its
    key once that file's content reproduces the key, and everything else waits for the scan.
    """

    def __init__(self, root: Path, use_cache: bool = True, max_file: int = files.DEFAULT_MAX_FILE) -> None:
        self.root = root
        self.use_cache = use_cache
        self.max_file = max_file
        # Paths are kept as plain strings: a folder may hold 100k files.
        self._by_key: dict[str, list[str]] = {}
        self._cursor: dict[str, int] = {}
        self._by_resource: dict[str, list[tuple[str, str | None]]] = {}  # resource -> (path, model)
        # Recordings read so far, least recently served first; bounded (a run may serve 100k of them).
        self._loaded: OrderedDict[str, tuple[Recording, int]] = OrderedDict()  # path -> (recording, file size)
        self._loaded_bytes = 0
        self._loaded_lock = threading.Lock()  # the event loop serves while the writer thread adds
        self._listings: dict[str, ReplayResponse] = {}  # listing resource name -> union, built on use
        self._partials: dict[str, list[str]] = {}  # request key -> partial recordings (never served)
        self._write_lock = threading.Lock()
        self.report = LoadReport()
        # Lazy opening: the claims of file names until the content index is in place.
        self._ready = threading.Event()
        self._ready.set()
        self._claims: names.Listing = names.Listing()
        self._added: list[tuple[str, Recording]] = []  # recorded while the scan ran
        self._swap_lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    # ---- loading -------------------------------------------------------------------

    def load(self) -> LoadReport:
        """(Re)index the folder by content. Bad files are reported and skipped, never fatal."""
        self._cursor.clear()
        self._forget_loaded()
        self._install(building.build(self.root, self.use_cache, self.max_file))
        return self.report

    def open_lazily(self, on_ready: Callable[[LoadReport], None] | None = None, lazy_from: int | None = None) -> int:
        """Index by file names now and by content in a background thread (folders of `lazy_from`
        files or more; smaller ones are loaded at once). Returns the number of `*.json` files listed."""
        self._cursor.clear()
        self._forget_loaded()
        listing = names.list_by_name(self.root) if self.root.is_dir() else names.Listing()
        if listing.files < (LAZY_FROM if lazy_from is None else lazy_from):
            self.load()
            if on_ready is not None:
                on_ready(self.report)
            return listing.files
        self._claims, self._added = listing, []
        self._ready.clear()

        def scan() -> None:
            try:
                built = building.build_elsewhere(self.root, self.use_cache, self.max_file)
            except Exception as e:  # never a silent half index: say so
                log.exception(f"llm-vcr: indexing {shown(self.root)} failed", exc_info=e)
                built = building.Built(report=LoadReport(skipped=[(self.root, f"indexing failed: {e!r}")]))
            self._install(built)
            if on_ready is not None:
                on_ready(self.report)

        threading.Thread(target=scan, name="llm-vcr-index", daemon=True).start()
        return listing.files

    def _install(self, built: building.Built) -> None:
        """Put a content index in place (from the scan thread too); recordings made meanwhile stay."""
        with self._swap_lock:
            self._by_key, self._by_resource, self._partials = built.by_key, built.by_resource, built.partials
            self._listings.clear()
            self.report = built.report
            added, self._added = self._added, []
            self._claims = names.Listing()
            for path, rec in added:  # unless the scan found the file itself
                known = self._partials.get(rec.key or "", ()) if rec.partial else self._by_key.get(rec.key or "", ())
                if path not in known:
                    self._add(path, rec)
            self._ready.set()
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            loop.call_soon_threadsafe(_wake, fut)

    @property
    def ready(self) -> bool:
        """Whether every file has been indexed by content (always, after `load()`)."""
        return self._ready.is_set()

    async def until_ready(self) -> None:
        """Wait, without blocking the event loop, until the background scan is done."""
        if self._ready.is_set():
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._swap_lock:
            if self._ready.is_set():
                return
            self._waiters.append((loop, fut))
        await fut

    def wait_ready(self) -> None:
        """Block until the background scan is done (threads and shutdown only, never the event loop)."""
        self._ready.wait()

    def _index(self, path: str, key: str, resource: str, model: str | None) -> None:
        self._by_key.setdefault(key, []).append(path)
        self._by_resource.setdefault(resource, []).append((path, model))
        self._listings.pop(resource, None)  # a listing's union is rebuilt on next use

    def add(self, path: Path, rec: Recording) -> None:
        """Make a just-written recording servable (auto mode replays what it recorded)."""
        with self._swap_lock:
            if not self._ready.is_set():
                self._added.append((str(path), rec))
            self._add(str(path), rec)

    def _add(self, path: str, rec: Recording) -> None:
        if rec.partial is not None and rec.key is not None:
            self._partials.setdefault(rec.key, []).append(path)
        if rec.partial is None and rec.key is not None and rec.resource is not None:
            self._keep(path, rec)
            self._index(path, rec.key, rec.resource.name, rec.model)
            self.report.loaded += 1

    def recording(self, path: Path | str, keep: bool = True) -> Recording | None:
        """The recording in `path`, read on first use and kept while it is among the recently served
        (`keep`: a recording that is only looked at, to explain a miss, is not); None if it became
        unreadable since indexing."""
        path = str(path)
        with self._loaded_lock:
            got = self._loaded.get(path)
            if got is not None:
                self._loaded.move_to_end(path)
                return got[0]
        try:
            rec = read_file(path, self.max_file)
        except RecordingError as e:
            log.error(f"llm-vcr: {shown(path)} can no longer be read: {e}")
            return None
        if keep:
            self._keep(path, rec)
        return rec

    def _keep(self, path: str, rec: Recording) -> None:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = len(rec.replay.body)
        with self._loaded_lock:
            old = self._loaded.pop(path, None)
            self._loaded_bytes += size - (old[1] if old else 0)
            self._loaded[path] = (rec, size)
            while self._loaded_bytes > LOADED_BYTES and len(self._loaded) > 1:
                _, (_, dropped) = self._loaded.popitem(last=False)  # read again from its file if served again
                self._loaded_bytes -= dropped

    def _forget_loaded(self) -> None:
        with self._loaded_lock:
            self._loaded.clear()
            self._loaded_bytes = 0

    # ---- lookup --------------------------------------------------------------------

    def __len__(self) -> int:
        self.wait_ready()
        return sum(len(v) for v in self._by_key.values())

    def paths(self) -> list[Path]:
        self.wait_ready()
        return [Path(p) for seq in self._by_key.values() for p in seq]

    def entries(self) -> dict[str, list[tuple[Path, Recording]]]:
        """Every servable recording by key, each list in replay order (reads every file: for tools)."""
        self.wait_ready()
        out: dict[str, list[tuple[Path, Recording]]] = {}
        for key in self._by_key:
            if recs := self.recordings_of(key):
                out[key] = recs
        return out

    def take(self, key: str) -> Hit | _Pending | None:
        """The next recording for `key` in order (the last one repeats), None on a miss, or PENDING while
        the folder is being indexed and its file names cannot settle it."""
        if not self._ready.is_set():
            return self._take_claimed(key)
        paths = self._by_key.get(key)
        if not paths:
            return None
        first = self.recording(paths[0])
        if first is not None and first.resource in LISTINGS:
            name = first.resource.name
            if name not in self._listings:
                recs = [r for p in paths if (r := self.recording(p)) is not None]
                self._listings[name] = listing_union(first.resource, recs)
            return Hit(_as_path(paths[0]), self._listings[name], None)
        i = self._cursor.get(key, 0)
        self._cursor[key] = i + 1
        path = paths[min(i, len(paths) - 1)]
        rec = self.recording(path)
        return Hit(_as_path(path), rec.replay, rec) if rec is not None else None

    def _take_claimed(self, key: str) -> Hit | _Pending:
        """Before the content index is in place: the next file named for `key`, once its content says
        the same. PENDING whenever the names cannot settle it: files of other recorders or links (one of
        them may hold this request, earlier in the order), no file named for the key, a name that does
        not hold, a sequence used up (whether its last file repeats is the scan's to say), a listing (the
        union needs every file)."""
        paths = self._claims.claims.get(key)
        i = self._cursor.get(key, 0)
        if self._claims.foreign or not paths or i >= len(paths):
            return PENDING
        path = paths[i]
        rec = self.recording(path)
        if rec is None or rec.key != key or rec.partial is not None or rec.resource in LISTINGS:
            return PENDING
        self._cursor[key] = i + 1
        return Hit(_as_path(path), rec.replay, rec)

    def recordings_of(self, key: str) -> list[tuple[Path, Recording]]:
        """Every servable recording of `key`, in replay order (WebSocket sessions pick among them); while
        the folder is being indexed, those whose name and content agree."""
        if not self._ready.is_set():
            recs = [(p, r) for p in self._claims.claims.get(key, ()) if (r := self.recording(p)) is not None]
            return [(Path(p), r) for p, r in recs if r.key == key and r.partial is None]
        return [(Path(p), r) for p in self._by_key.get(key, ()) if (r := self.recording(p)) is not None]

    def nearest(self, resource: Resource, body: object, limit: int = 2000) -> Nearest | None:
        """The recording of the same resource that agrees longest on the conversation, to explain a miss
        (see `matching.explain`). Bodies are compared as keys see them (random ids numbered).

        Candidates with the same model come first; at most `limit` are read (misses are rare,
        but a folder may hold 100k files).
        """
        self.wait_ready()
        model = body.get("model") if isinstance(body, dict) else None
        candidates = self._by_resource.get(resource.name, [])
        same = [p for p, m in candidates if m == model]
        rules = normalize.active()
        want = normalize.normalize(resource.api, resource.name, canonical(body), rules)
        best: tuple[explain.Score, str, JSON] | None = None
        for path in (same or [p for p, _ in candidates])[:limit]:
            rec = self.recording(path, keep=False)
            if rec is None:
                continue
            have = normalize.normalize(resource.api, resource.name, canonical(rec.body), rules)
            rank = explain.score(want, have)
            if best is None or rank > best[0]:
                best = (rank, path, have)
        if best is None:
            return None
        rank, path, have = best
        return Nearest(Path(path), explain.explain(want, have), rank.turns_agreeing, rank.same_model)

    def rewind(self) -> None:
        """Replay every sequence from its first recording again (a test that starts over)."""
        self._cursor.clear()

    def partial_of(self, key: str) -> list[Path]:
        """Partial recordings (never replayed) of a request key: a miss says when they exist."""
        self.wait_ready()
        return [Path(p) for p in self._partials.get(key, ())]

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
