"""What matching needs to know of each recording file, and a cache of it outside the repo.

Indexing a file means reading and parsing it to recompute its request key; a folder of 100k
recordings takes seconds. The cache maps each file (by relative path, size and mtime) to its
index entry, so a restart only stats the files. It lives in the user's cache folder, never in
the recordings folder (nothing to commit or ignore), and is keyed by the code that computes
keys, so a change there can never serve stale keys.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from llm_vcr.matching import normalize
from llm_vcr.store.files import Stamp

# The code an index entry depends on: the API tables, matching, reading recordings, redaction.
_CODE = ("apis", "matching", "store/recording.py", "redaction.py")


def _code_version() -> str:
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in _CODE:
        for path in sorted((package / name).rglob("*.py")) if (package / name).is_dir() else [package / name]:
            h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


CODE_VERSION = _code_version()


def version() -> str:
    """What index entries depend on: the key-computing code and the active matching rules."""
    return f"{CODE_VERSION}-{normalize.active().fingerprint}"


@dataclass(slots=True)
class Entry:
    """One recording file as the index knows it: enough to match, nothing of the response."""

    key: str | None  # None: an API this version does not replay
    resource: str | None
    model: str | None
    partial: bool


def cache_dir() -> Path:
    if explicit := os.environ.get("LLM_VCR_INDEX_CACHE"):
        return Path(explicit)
    base = os.environ.get("LLM_VCR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llm-vcr")  # fmt: skip
    return Path(base) / "index"


def cache_path(folder: Path) -> Path:
    return cache_dir() / f"{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]}.json"


def load_cache(folder: Path) -> dict[str, tuple[Stamp, Entry]]:
    """relative path -> (stamp, entry); empty when absent, stale or unreadable (it is only a cache)."""
    try:
        doc = orjson.loads(cache_path(folder).read_bytes())
        if doc.get("version") != version():
            return {}
        return {rel: ((v[0], v[1]), Entry(v[2], v[3], v[4], v[5])) for rel, v in doc["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


def save_cache(folder: Path, files: dict[str, tuple[Stamp, Entry]]) -> None:
    path = cache_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": version(),
            "folder": str(folder.resolve()),
            "files": {rel: [s[0], s[1], e.key, e.resource, e.model, e.partial] for rel, (s, e) in files.items()},
        }
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(doc))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache folder costs speed, never correctness
