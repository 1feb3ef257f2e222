"""Scopes: per-test recordings for any language, without touching the client.

A scope is a name (a test id) that selects the sub-folder `<vcr_dir>/<scope path>/` for reading and
writing, with its own replay cursors. A request finds its scope, first match wins: the
`x-llm-vcr-scope` header; the user name of the proxy credentials
(`HTTPS_PROXY=http://<scope>@127.0.0.1:PORT`); or its client process, bound to a scope through the
control API, found from the socket tables of `/proc` (Linux), children of a bound process included.

Pure: names to paths, the process table. The mitmproxy side is `addons/scopes.py`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import socket
from pathlib import Path, PurePosixPath

from llm_vcr.store import RecordingStore
from llm_vcr.store.files import SCOPE_MARKER

HEADER = "x-llm-vcr-scope"
CONTROL_HOST = "llm-vcr.control"
CONTROL_PREFIX = "/__llm-vcr/"
MARKER = SCOPE_MARKER  # in a scope's folder: its name; the unscoped store leaves such folders alone
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")
_MAX_SEGMENT = 120


def scope_path(name: str) -> PurePosixPath:
    """A scope name as a relative folder: readable, never outside `vcr_dir`.

    `tests/test_agent.py::test_weather[paris]` -> `tests/test_agent.py/test_weather[paris]`; `::` and `/`
    separate folders, `.`/`..`/empty segments and control or reserved characters cannot escape, hidden
    names are made visible, long segments are shortened with a hash.
    """
    segments = []
    for seg in re.split(r"::|/", name):
        seg = _UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", seg.strip())
        if not seg or set(seg) == {"."}:
            seg = "%2E" * len(seg) if seg else ""
            if not seg:
                continue
        if seg.startswith("."):
            seg = "%2E" + seg[1:]
        if len(seg.encode()) > _MAX_SEGMENT:
            digest = hashlib.sha256(seg.encode()).hexdigest()[:12]
            seg = seg.encode()[: _MAX_SEGMENT - 13].decode(errors="ignore") + "~" + digest
        segments.append(seg)
    if not segments:
        raise ValueError(f"{name!r} is not a usable scope name")
    return PurePosixPath(*segments)


def folder_of(root: Path, name: str) -> Path:
    path = root / scope_path(name)
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):  # symlinks inside vcr_dir pointing out
        raise ValueError(f"the folder of scope {name!r} leads out of {root}")
    return path


# ---- which process owns a loopback connection (Linux /proc) --------------------------------


def _hex_addr(ip: str, port: int) -> tuple[str, str]:
    """The local-address field of /proc/net/tcp{,6} for (ip, port), in each table's notation."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        v4 = socket.inet_aton(str(addr))[::-1].hex().upper() + f":{port:04X}"
        mapped = ipaddress.IPv6Address(f"::ffff:{addr}")
        return v4, _v6_hex(mapped) + f":{port:04X}"
    return "", _v6_hex(addr) + f":{port:04X}"


def _v6_hex(addr: ipaddress.IPv6Address) -> str:
    raw = addr.packed
    return "".join(raw[i : i + 4][::-1].hex().upper() for i in range(0, 16, 4))


def socket_inode(ip: str, port: int, proc: Path = Path("/proc")) -> int | None:
    """The inode of the socket whose local address is (ip, port): a client's end of a connection."""
    v4, v6 = _hex_addr(ip, port)
    for table, want in (("net/tcp", v4), ("net/tcp6", v6)):
        if not want:
            continue
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # A closed connection that used the same port lingers (TIME_WAIT) with inode 0: skip it.
            if len(fields) > 9 and fields[1] == want and fields[9] != "0":
                return int(fields[9])
    return None


def parents(proc: Path = Path("/proc")) -> dict[int, int]:
    """pid -> parent pid, for every process we can see."""
    out = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            stat = (proc / entry.name / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces and parentheses: split after the last ')'.
        rest = stat[stat.rfind(")") + 2 :].split()
        if len(rest) > 1:
            out[int(entry.name)] = int(rest[1])
    return out


def owner(ip: str, port: int, candidates: set[int], proc: Path = Path("/proc")) -> int | None:
    """Which of `candidates` (pids) holds the client end of the connection from (ip, port), or None."""
    inode = socket_inode(ip, port, proc)
    if inode is None:
        return None
    link = f"socket:[{inode}]"
    for pid in sorted(candidates, reverse=True):  # children (usually larger pids) before their parents
        try:
            fds = os.scandir(proc / str(pid) / "fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) == link:
                        return pid
                except OSError:
                    continue
    return None


def descendants(roots: set[int], tree: dict[int, int]) -> set[int]:
    """`roots` and every process below them."""
    children: dict[int, list[int]] = {}
    for pid, ppid in tree.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.add(pid)
        todo.extend(children.get(pid, ()))
    return out


def client_chain(ip: str, port: int, bound: set[int], proc: Path = Path("/proc")) -> list[int] | None:
    """The process behind a loopback client connection and its ancestors, nearest first, if it is one of
    the `bound` processes or below one (blocking: call from a thread). None when it is not."""
    if not bound:
        return None
    tree = parents(proc)
    pid = owner(ip, port, descendants(bound, tree), proc)
    if pid is None:
        return None
    chain, seen = [], set()
    while pid and pid not in seen:
        chain.append(pid)
        seen.add(pid)
        pid = tree.get(pid, 0)
    return chain


def client_process_scope(ip: str, port: int, bindings: dict[int, str], proc: Path = Path("/proc")) -> str | None:
    """The scope of the process behind a loopback client connection (blocking: call from a thread)."""
    chain = client_chain(ip, port, set(bindings), proc)
    return next((bindings[p] for p in chain if p in bindings), None) if chain else None


# ---- a scope's state in a run ---------------------------------------------------------------


class Scope:
    """One scope of a run: its folder's store (own replay cursors), an optional mode, and what happened."""

    def __init__(self, name: str, store: RecordingStore, mode: str | None = None) -> None:
        self.name = name
        self.store = store
        self.mode = mode  # None: the proxy's mode
        self.hits = 0
        self.misses = 0
        self.recorded = 0
        self.miss_keys: list[str] = []
        self.messages: list[str] = []  # miss (and error) messages, for the test that owns the scope
        self.served: set[Path] = set()
        self.new: list[Path] = []

    def summary(self) -> dict[str, object]:
        root = self.store.root

        def rel(p: Path) -> str:
            return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)

        unused = sorted(rel(p) for p in self.store.paths() if p not in self.served and p not in self.new)
        return {
            "scope": self.name, "folder": str(root), "mode": self.mode, "hits": self.hits, "misses": self.misses,
            "recorded": self.recorded, "miss_keys": self.miss_keys, "messages": self.messages,
            "new_recordings": [rel(p) for p in self.new], "unused": unused,
        }  # fmt: skip


def open_scope(root: Path, name: str, mode: str | None, max_file: int) -> Scope:
    """A scope's folder opened for this run (blocking: reads the folder; call from a thread). The folder
    gets its marker when something is recorded there (`mark`)."""
    store = RecordingStore(folder_of(root, name), max_file=max_file)
    store.load()
    return Scope(name, store, mode)


def mark(folder: Path, name: str) -> None:
    """Write the marker that makes a folder a scope's: the unscoped store then leaves it alone."""
    marker = folder / MARKER
    if not marker.exists():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(name + "\n", encoding="utf-8")
