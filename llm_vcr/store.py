"""The recordings folder: index by request key, serve in order, write atomically.

Files are indexed by the key recomputed from each file's stored request, never by
trusting its name (other recorders' names do not always reproduce). Identical requests
recorded several times replay in file-name order; once exhausted, the last one repeats.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import orjson

from .keys import canonical, differences
from .recording import Recording, RecordingError, ReplayResponse, listing_union
from .resources import LISTINGS, Resource

log = logging.getLogger("llm_vcr")

_NAME_RE = re.compile(r"^(?P<slug>[a-z_]+)-(?P<key>[0-9a-f]{16})-(?P<seq>\d+)(?:\.partial)?\.json$")


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
    recording: Recording
    path: Path
    diffs: list[str]


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_key: dict[str, list[tuple[Path, Recording]]] = {}
        self._cursor: dict[str, int] = {}
        self._by_resource: dict[str, list[tuple[Path, Recording]]] = {}
        self._listings: dict[str, ReplayResponse] = {}  # listing resource name -> union, built on use
        self._write_lock = threading.Lock()
        self.report = LoadReport()

    # ---- loading -------------------------------------------------------------------

    def load(self) -> LoadReport:
        """(Re)read the folder. Bad files are reported and skipped, never fatal."""
        self._by_key.clear()
        self._cursor.clear()
        self._by_resource.clear()
        self._listings.clear()
        report = self.report = LoadReport()
        if not self.root.is_dir():
            return report
        _remove_stale_temp_files(self.root)
        paths = sorted(
            (p for p in self.root.rglob("*.json") if p.is_file() and not _hidden(p.relative_to(self.root))),
            key=_natural,
        )
        for path in paths:
            try:
                rec = read_file(path)
            except RecordingError as e:
                report.skipped.append((path, str(e)))
                continue
            if rec.partial is not None:
                report.partial += 1
            elif rec.key is None:
                report.other_apis += 1
            else:
                self._index(path, rec)
                report.loaded += 1
        return report

    def _index(self, path: Path, rec: Recording) -> None:
        assert rec.key is not None and rec.resource is not None
        self._by_key.setdefault(rec.key, []).append((path, rec))
        self._by_resource.setdefault(rec.resource.name, []).append((path, rec))
        if rec.resource in LISTINGS:
            self._listings.pop(rec.resource.name, None)  # the union is rebuilt on next use

    def add(self, path: Path, rec: Recording) -> None:
        """Make a just-written recording servable (auto mode replays what it recorded)."""
        if rec.partial is None and rec.key is not None:
            self._index(path, rec)
            self.report.loaded += 1

    # ---- lookup --------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def paths(self) -> list[Path]:
        return [p for seq in self._by_key.values() for p, _ in seq]

    def entries(self) -> dict[str, list[tuple[Path, Recording]]]:
        """Every servable recording by key, each list in replay order."""
        return {k: list(v) for k, v in self._by_key.items()}

    def take(self, key: str) -> Hit | None:
        """The next recording for `key` in order (the last one repeats), or None on a miss."""
        entries = self._by_key.get(key)
        if not entries:
            return None
        path, rec = entries[0]
        if rec.resource in LISTINGS:
            if rec.resource.name not in self._listings:
                self._listings[rec.resource.name] = listing_union(rec.resource, [r for _, r in entries])
            return Hit(path, self._listings[rec.resource.name], None)
        i = self._cursor.get(key, 0)
        self._cursor[key] = i + 1
        path, rec = entries[min(i, len(entries) - 1)]
        return Hit(path, rec.replay, rec)

    def nearest(self, resource: Resource, body: object) -> Nearest | None:
        """The recording of the same resource whose body differs least, to explain a miss."""
        best: Nearest | None = None
        want = canonical(body)
        for path, rec in self._by_resource.get(resource.name, []):
            diffs = differences(want, canonical(rec.body), limit=50)
            if best is None or len(diffs) < len(best.diffs):
                best = Nearest(rec, path, diffs)
        if best is not None:
            best.diffs = best.diffs[:5]
        return best

    # ---- writing -------------------------------------------------------------------

    def write(self, rec: Recording) -> Path:
        """Atomically write `rec` under a fresh sequence number; safe across processes.

        Blocking: call it from a worker thread, never on mitmproxy's event loop.
        """
        assert rec.key is not None and rec.resource is not None
        self.root.mkdir(parents=True, exist_ok=True)
        data = rec.dumps()
        slug = rec.resource.name.replace("/", "_")
        suffix = ".partial.json" if rec.partial else ".json"
        with self._write_lock:
            tmp = self.root / f".tmp-{os.getpid()}-{threading.get_ident()}-{rec.key}"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                seq = len(self._by_key.get(rec.key, ()))
                while True:
                    final = self.root / f"{slug}-{rec.key}-{seq:03d}{suffix}"
                    try:
                        os.link(tmp, final)  # atomic and never clobbers another writer's file
                        return final
                    except FileExistsError:
                        seq += 1
            finally:
                tmp.unlink(missing_ok=True)


def read_file(path: Path) -> Recording:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise RecordingError(f"cannot read: {e.strerror or e}") from e
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise RecordingError(f"not valid JSON ({e})") from e
    return Recording.from_json(doc)


def _remove_stale_temp_files(root: Path) -> None:
    """Temp files of writers that died (kill -9) before publishing: never published, safe to drop."""
    for tmp in root.glob(".tmp-*"):
        try:
            pid = int(tmp.name.split("-")[1])
            os.kill(pid, 0)  # still running: its write may be in progress
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (ValueError, IndexError, PermissionError, OSError):
            pass


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)
