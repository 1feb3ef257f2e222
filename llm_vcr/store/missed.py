"""Requests that missed, kept outside the repository so `llm-vcr show KEY` can explain a miss later.

Next to the index cache (`~/.cache/llm-vcr/misses/<folder>/<key>.json`): nothing to commit or
ignore. Bodies are stored redacted (as the proxy keyed them), and only up to a size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from llm_vcr import bodies
from llm_vcr.store import index

JSON = Any
MAX_BYTES = 1024 * 1024  # a missed request larger than this is not kept (its miss message was shown)


def _path(folder: Path, key: str) -> Path:
    return index.cache_dir().parent / "misses" / index.cache_path(folder).stem / f"{key}.json"


def save(folder: Path, key: str, method: str, resource: str, body: JSON) -> None:
    """Best effort: a cache that cannot be written costs an explanation later, never the run."""
    try:
        data = bodies.dumps({"method": method, "resource": resource, "body": body})
        if len(data) > MAX_BYTES:
            return
        path = _path(folder, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        pass


def load(folder: Path, key: str) -> dict[str, JSON] | None:
    try:
        doc = orjson.loads(_path(folder, key).read_bytes())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("resource"), str) else None
