"""Reading recording files without trusting them, and indexing many of them (on every core when a first
start meets a big folder). Shared by the proxy's store and every command."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import orjson

from llm_vcr.matching import normalize
from llm_vcr.store import files, index
from llm_vcr.store.recording import Recording, RecordingError

log = logging.getLogger("llm_vcr")


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


def remove_stale_temp_files(root: Path) -> None:
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
