"""Building a folder's content index: every file's key recomputed from its stored request (from the index
cache when the file has not changed). In this process for the commands and small folders; in a child
process for the proxy's background scan, so the parsing of 100k files leaves nothing behind in the
proxy's memory but the index itself (file paths as plain strings, the most compact form Python has)."""

from __future__ import annotations

import logging
import multiprocessing
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from llm_vcr.matching import normalize
from llm_vcr.store import files, index
from llm_vcr.store.reading import index_files, remove_stale_temp_files

log = logging.getLogger("llm_vcr")


def natural(path: str) -> tuple[object, ...]:
    # "…-10.json" after "…-9.json": sequence numbers compare as numbers.
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path))


@dataclass
class LoadReport:
    loaded: int = 0
    other_apis: int = 0  # valid files for APIs this version does not replay (Ollama, Anthropic…)
    partial: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class Built:
    """A content index of a folder: request key -> files in replay order, and what misses need."""

    report: LoadReport
    by_key: dict[str, list[str]] = field(default_factory=dict)
    by_resource: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # (path, model)
    partials: dict[str, list[str]] = field(default_factory=dict)  # key -> partial recordings

    def add(self, path: str, key: str, resource: str, model: str | None) -> None:
        self.by_key.setdefault(key, []).append(path)
        # One string object per model name, also once unpickled: 100k files name a handful of models.
        self.by_resource.setdefault(resource, []).append((path, sys.intern(model) if model else None))


def build(root: Path, use_cache: bool = True, max_file: int = files.DEFAULT_MAX_FILE) -> Built:
    """Index `root` by content. Bad files are reported and skipped, never fatal."""
    built = Built(report=LoadReport())
    report = built.report
    if not root.is_dir():
        return built
    remove_stale_temp_files(root)
    cached = index.load_cache(root) if use_cache else {}
    found = files.scan(root, max_file)
    report.skipped.extend(found.skipped)
    todo = [name for rel, name, stamp in found.files if (hit := cached.get(rel)) is None or hit[0] != stamp]
    computed = index_files(todo, max_file)
    fresh: dict[str, tuple[index.Stamp, index.Entry]] = {}
    for rel, name, stamp in found.files:
        got = computed.get(name)
        if got is None:
            entry = cached[rel][1]
        elif isinstance(got, str):
            report.skipped.append((Path(name), got))
            continue
        else:
            entry = got
        fresh[rel] = (stamp, entry)
        if entry.partial:
            report.partial += 1
            if entry.key is not None:
                built.partials.setdefault(entry.key, []).append(name)
        elif entry.key is None or entry.resource is None:
            report.other_apis += 1
        else:
            built.add(name, entry.key, entry.resource, entry.model)
            report.loaded += 1
    for paths in built.by_key.values():
        if len(paths) > 1:
            paths.sort(key=natural)
    report.skipped.sort()
    if use_cache and fresh != cached:
        index.save_cache(root, fresh)
    return built


def _build_under(rules: normalize.Rules, root: str, use_cache: bool, max_file: int) -> Built:
    normalize.set_active(rules)  # a child process: keys under the parent's matching rules
    return build(Path(root), use_cache, max_file)


def build_elsewhere(root: Path, use_cache: bool = True, max_file: int = files.DEFAULT_MAX_FILE) -> Built:
    """`build` in a child process (spawned: the proxy has threads); in this one if that cannot start."""
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(_build_under, normalize.active(), str(root), use_cache, max_file).result()
    except Exception as e:  # a child that cannot start costs memory, never correctness
        log.warning(f"llm-vcr: indexing in a child process failed ({e!r}); indexing in this one")
        return build(root, use_cache, max_file)
