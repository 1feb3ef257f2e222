"""What file names say: llm-vcr names its recordings `<resource>-<key>-<seq>[.partial].json`, so a
folder can be indexed by listing it, without reading or even stat'ing a file. A name is only a claim:
the store checks each claim against the file's content (the key recomputed from the stored request)
before serving it, and a background scan indexes every file by content as before.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from llm_vcr.store.files import SCOPE_MARKER

NAME = re.compile(r"^[A-Za-z0-9_.-]+?-(?P<key>[0-9a-f]{16})-\d+(?P<partial>\.partial)?\.json$")


@dataclass
class Listing:
    claims: dict[str, list[str]] = field(default_factory=dict)  # key -> files named for it
    partial_claims: dict[str, list[str]] = field(default_factory=dict)
    foreign: int = 0  # files whose names claim no key (other recorders'), links, anything to look at closer
    files: int = 0


def list_by_name(root: Path) -> Listing:
    """The `*.json` files under `root` (outside hidden folders and scope folders) by the key their name
    claims. Directory entries only (their type comes with the listing): no file is opened or stat'ed."""
    out = Listing()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # the background scan reports it
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_symlink():
                    out.files += e.name.endswith(".json")
                    out.foreign += 1  # a link (to a file or a folder): the scan decides where it leads
                    continue
                if e.is_dir(follow_symlinks=False):
                    if not os.path.exists(os.path.join(e.path, SCOPE_MARKER)):
                        stack.append(e.path)
                    continue
                if not e.name.endswith(".json"):
                    continue
                out.files += 1
                m = NAME.match(e.name) if e.is_file(follow_symlinks=False) else None
            except OSError:
                m = None
            if m is None:
                out.foreign += 1  # a link, a FIFO, another recorder's name: the scan decides
                continue
            target = out.partial_claims if m["partial"] else out.claims
            target.setdefault(m["key"], []).append(e.path)
    return out
