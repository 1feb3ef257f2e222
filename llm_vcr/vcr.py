"""The state the addons share: mode, the recordings store, counters, and the disk writer.

Disk work runs on a single worker thread, never on mitmproxy's event loop; a single
thread also keeps sequence numbers in submission order. `close()` waits for pending
writes so a clean shutdown loses nothing, and every write that failed is counted.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llm_vcr import bodies, redaction
from llm_vcr.scopes import Scope, mark
from llm_vcr.store import LoadReport, RecordingStore
from llm_vcr.store.files import DEFAULT_MAX_FILE, shown
from llm_vcr.store.recording import Recording

log = logging.getLogger("llm_vcr")

MODES = ("replay", "record", "auto", "live")
META = "llm_vcr"  # flow.metadata key: {"resource", "key", "outcome", "recording", "diverted_from", …}
SECRET_POLICIES = ("redact", "refuse")


class NotRecorded(Exception):
    """Raised while building a recording: the call passed through but cannot be recorded."""

    def __init__(self, call: str, reason: str) -> None:
        super().__init__(f"{call}: {reason}")
        self.call, self.reason = call, reason


class _RedactLogs(logging.Filter):
    """Every llm-vcr log line goes through the same redaction as files: no key reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redaction.redact_log(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


if not any(isinstance(f, _RedactLogs) for f in log.filters):
    log.addFilter(_RedactLogs())


@dataclass
class Stats:
    llm_requests: int = 0  # LLM calls seen (any outcome)
    other_requests: int = 0  # everything else that went through the proxy
    hits: int = 0
    misses: int = 0
    recorded: int = 0
    partial: int = 0  # kept as .partial.json: cut streams, including streams open at shutdown
    redacted: int = 0  # recordings written with secrets replaced
    refused: int = 0  # recordings not written because they held secrets (vcr_secrets=refuse)
    write_failed: int = 0  # recordings lost to the disk (read-only folder, full disk, permissions)
    not_recorded: int = 0  # LLM calls passed through unrecorded (body not JSON, too large…)
    unsupported: int = 0  # LLM-shaped calls replay answered with an error (endpoints not replayed yet)
    telemetry: int = 0  # SDK telemetry answered locally in replay mode
    blocked: int = 0  # upstream connections refused in replay mode
    tokens_saved: int = 0  # usage of the answers replayed instead of paid for
    miss_keys: list[str] = field(default_factory=list)
    write_failed_keys: list[str] = field(default_factory=list)
    not_recorded_calls: list[str] = field(default_factory=list)  # "POST chat/completions: <reason>"
    unsupported_calls: list[str] = field(default_factory=list)  # "POST /v1/audio/speech (OpenAI audio)"


def _note(items: list[str], item: str, limit: int = 100) -> None:
    if len(items) < limit and item not in items:
        items.append(item)


class Vcr:
    def __init__(self) -> None:
        self.mode = "replay"
        self.secrets = "redact"
        self.max_file = DEFAULT_MAX_FILE
        self.max_body = bodies.DEFAULT_MAX_BODY
        # (host, port) of LLM APIs in this run: reverse-proxy targets and hosts LLM calls went to.
        # In replay mode nothing else is sent there, and no connection to them is opened.
        self.llm_upstreams: set[tuple[str, int]] = set()
        self.served: set[Path] = set()
        self.new: list[Path] = []
        self.speed: float | None = None  # paced replay factor; None: instant
        self.loopback_address: tuple[str, int] | None = None  # the loopback replay server, while running
        self.store = RecordingStore(Path("recordings"))
        self.stats = Stats()
        self.before_close: list[Callable[[], None]] = []  # e.g. keep streams still open at shutdown
        self.scopes: dict[str, Scope] = {}  # opened in this run, by name
        # Scopes whose own mode may dial (record, auto, live): kept with each mode change (`set_scope_mode`),
        # because `may_dial` is asked on every hook lookup and a run may open thousands of scopes.
        self._dialling_scopes: set[str] = set()
        self.bindings: dict[int, str] = {}  # client process id -> scope (the control API)
        self._writer: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()
        self._completed: queue.SimpleQueue[tuple[Callable[[Path, Recording], None], Path, Recording]] = (
            queue.SimpleQueue()
        )

    @property
    def replays(self) -> bool:
        return self.mode in ("replay", "auto")

    @property
    def records(self) -> bool:
        return self.mode in ("record", "auto")

    def mode_of(self, scope: Scope | None) -> str:
        return scope.mode if scope is not None and scope.mode else self.mode

    @property
    def plain_replay(self) -> bool:
        """Instant replay only: no flow is recorded, passed through or paced, so the hooks that would
        have nothing to do are hidden from mitmproxy (`addons.hooks.FlowHook`)."""
        return self.speed is None and not self.may_dial

    @property
    def may_dial(self) -> bool:
        """Whether an upstream connection may be needed: some mode in use records or passes through."""
        return self.mode != "replay" or bool(self._dialling_scopes)

    def set_scope_mode(self, scope: Scope, mode: str | None) -> None:
        scope.mode = mode
        if mode in (None, "replay"):
            self._dialling_scopes.discard(scope.name)
        else:
            self._dialling_scopes.add(scope.name)

    def open(self, folder: Path, lazy: bool = False) -> None:
        """Open a recordings folder; `lazy` (the proxy): big folders are indexed in the background."""
        self.scopes.clear()  # scopes live under the folder: reopened on their next use
        self._dialling_scopes.clear()
        self.store = RecordingStore(folder, max_file=self.max_file)
        if not lazy:
            self._indexed(folder, self.store.load())
            return
        listed = self.store.open_lazily(on_ready=lambda report: self._indexed(folder, report))
        if not self.store.ready:
            log.info(f"llm-vcr: {listed} recording files in {shown(folder)}: serving by their names while "
                     f"they are indexed in the background; mode {self.mode}")  # fmt: skip

    def _indexed(self, folder: Path, report: LoadReport) -> None:
        for path, reason in report.skipped:
            log.warning(f"llm-vcr: skipped recording {shown(path)}: {reason}")
        extra = []
        if report.other_apis:
            extra.append(f"{report.other_apis} for APIs not replayed yet")
        if report.partial:
            extra.append(f"{report.partial} partial")
        if report.skipped:
            extra.append(f"{len(report.skipped)} skipped")
        more = f" ({', '.join(extra)})" if extra else ""
        log.info(f"llm-vcr: {report.loaded} recordings in {shown(folder)}{more}; mode {self.mode}")

    def not_recorded(self, call: str, reason: str) -> None:
        self.stats.not_recorded += 1
        _note(self.stats.not_recorded_calls, f"{call}: {reason}")
        log.warning(f"llm-vcr: {call} passed through but was NOT recorded: {reason}")

    def unsupported(self, call: str) -> None:
        self.stats.unsupported += 1
        _note(self.stats.unsupported_calls, call)

    def report(self) -> dict[str, object]:
        """What this run did: counts, misses, new recordings, and recordings it never used."""
        root = self.store.root

        def rel(p: Path) -> str:
            return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)

        unused = sorted(rel(p) for p in self.store.paths() if p not in self.served and p not in self.new)
        report = {
            "mode": self.mode, "dir": str(root), **asdict(self.stats),
            "new_recordings": [rel(p) for p in self.new], "unused": unused,
            "scopes": {name: scope.summary() for name, scope in sorted(self.scopes.items())},
        }  # fmt: skip
        return redaction.redact(report)

    def persist(
        self,
        build: Callable[[], Recording],
        on_done: Callable[[Path, Recording], None],
        key: str | None = None,
        scope: Scope | None = None,
    ) -> None:
        """Build and write a recording in the worker thread; then `on_done` runs on the event loop.

        Call from the event loop. `on_done` is queued and drained by the loop, or by `close()` at
        shutdown, when the loop no longer runs callbacks: no completed write goes uncounted. A write
        that fails is logged with its reason and counted (`write_failed`, with its request key).
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-vcr-writer")
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # at shutdown, from close(): on_done runs in drain()
            loop = None

        def job() -> None:
            rec: Recording | None = None
            try:
                rec = build()
                if found := rec.redact_secrets():
                    kinds = ", ".join(sorted(set(found)))
                    if self.secrets == "refuse":
                        self.stats.refused += 1
                        log.error(
                            f"llm-vcr: did not write a recording of {rec.endpoint} (key {rec.key}): it holds "
                            f"{len(found)} key-shaped strings ({kinds}); vcr_secrets=redact stores it redacted"
                        )
                        return
                    self.stats.redacted += 1
                    log.warning(f"llm-vcr: replaced {len(found)} key-shaped strings ({kinds}) with placeholders")
                if scope is not None:
                    mark(scope.store.root, scope.name)
                path = (scope.store if scope is not None else self.store).write(rec)
            except NotRecorded as e:
                self.not_recorded(e.call, e.reason)
                return
            except Exception as e:
                what = (rec.key if rec is not None else None) or key or "?"
                self.stats.write_failed += 1
                _note(self.stats.write_failed_keys, what)
                reason = f"{e.strerror or e} ({shown(e.filename)})" if isinstance(e, OSError) else repr(e)
                log.error(f"llm-vcr: could NOT write the recording of request {what} in {shown(self.store.root)}: "
                          f"{reason}")  # fmt: skip
                return
            self._completed.put((on_done, path, rec))
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self.drain)
                except RuntimeError:
                    pass  # the loop is closed; close() drains

        fut = self._writer.submit(job)
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)

    def drain(self) -> None:
        """Run the `on_done` callbacks of completed writes (on the event loop, or at shutdown)."""
        while True:
            try:
                on_done, path, rec = self._completed.get_nowait()
            except queue.Empty:
                return
            on_done(path, rec)

    def flush(self) -> None:
        """Wait for every submitted write and handle its completion (tests)."""
        for fut in list(self._pending):
            fut.result()
        self.drain()

    def close(self) -> None:
        for hook in self.before_close:
            hook()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.drain()
