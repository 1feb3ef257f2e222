"""Walking a recordings folder and reading its files without trusting them.

A folder in a repository may hold anything: FIFOs named `x.json` (opening one blocks forever),
devices, sockets, symlink loops, links to the folder itself or out of it, a 2 GB sparse file,
names with control characters. Only regular files inside the folder are read, big ones are
skipped unread, and each skip has a one-line reason. Shared by the proxy and every CLI command.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_FILE = 256 * 1024 * 1024  # option vcr_max_file_mb

Stamp = tuple[int, int]  # (size, mtime_ns)


class UnreadableFile(ValueError):
    """A file that is not read, with the reason in words."""


def shown(path: object) -> str:
    """A path (or any name) for a log line: control characters escaped, so a hostile name cannot
    forge lines or terminal escapes."""
    text = str(path) if path is not None else "?"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _too_big(size: int, limit: int) -> str:
    return f"{size / 1e6:,.0f} MB, over the {limit / 1e6:,.0f} MB limit (vcr_max_file_mb): not read"


@dataclass
class Scan:
    files: list[tuple[str, str, Stamp]] = field(default_factory=list)  # (relative path, path, stamp)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


SCOPE_MARKER = ".llm-vcr-scope"  # a sub-folder holding it belongs to a scope (see scopes.py): not ours


def scan(root: Path, max_file: int = DEFAULT_MAX_FILE, own_scopes: bool = False) -> Scan:
    """Every `*.json` file under `root` outside hidden folders and other scopes' folders, in a stable
    order (`own_scopes`: include scope folders too, for tools that list everything).

    Plain strings and scandir's stat: this loop runs once per file of a 100k-file folder.
    """
    out = Scan()
    top = str(root)
    try:
        real_top = os.path.realpath(top)
        st = os.stat(top)
    except OSError:
        return out
    seen_dirs = {(st.st_dev, st.st_ino)}
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            out.skipped.append((Path(folder), f"cannot list the folder: {e.strerror or e}"))
            continue
        dirs = []
        for e in entries:
            if e.name.startswith("."):
                continue
            is_json = e.name.endswith(".json")
            try:
                if e.is_symlink():
                    target = os.path.realpath(e.path)
                    if target != real_top and not target.startswith(real_top + os.sep):
                        if is_json or os.path.isdir(target):
                            out.skipped.append((Path(e.path), "a link out of the recordings folder: not followed"))
                        continue
                st = e.stat()  # follows links
            except OSError as err:
                if is_json or e.is_symlink():
                    out.skipped.append((Path(e.path), f"a broken link or a link loop ({err.strerror or err})"))
                continue
            if stat.S_ISDIR(st.st_mode):
                if not own_scopes and os.path.exists(os.path.join(e.path, SCOPE_MARKER)):
                    continue  # another scope's recordings: served to that scope only
                if (st.st_dev, st.st_ino) in seen_dirs:
                    out.skipped.append((Path(e.path), "a link to a folder already read (a loop): not followed"))
                    continue
                seen_dirs.add((st.st_dev, st.st_ino))
                dirs.append(e.path)
            elif is_json:
                if not stat.S_ISREG(st.st_mode):
                    out.skipped.append((Path(e.path), f"{_kind(st.st_mode)}, not a regular file: not read"))
                elif st.st_size > max_file:
                    out.skipped.append((Path(e.path), _too_big(st.st_size, max_file)))
                else:
                    out.files.append((e.path[len(top) + 1 :], e.path, (st.st_size, st.st_mtime_ns)))
        stack.extend(reversed(dirs))
    return out


def read_bytes(path: Path | str, max_file: int = DEFAULT_MAX_FILE) -> bytes:
    """The bytes of a regular file of at most `max_file` bytes; UnreadableFile otherwise.

    Opened non-blocking and checked on the open descriptor: a file swapped for a FIFO after the
    scan cannot block the reader.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise UnreadableFile(f"cannot open: {e.strerror or e}") from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile(f"{_kind(st.st_mode)}, not a regular file: not read")
        if st.st_size > max_file:
            raise UnreadableFile(_too_big(st.st_size, max_file))
        try:
            data = f.read(max_file + 1)
        except OSError as e:
            raise UnreadableFile(f"cannot read: {e.strerror or e}") from e
    if len(data) > max_file:
        raise UnreadableFile(_too_big(len(data), max_file))
    return data
