"""The state the addons share: mode, the recordings store, counters, and the disk writer.

Disk work runs on a single worker thread, never on mitmproxy's event loop; a single
thread also keeps sequence numbers in submission order. `close()` waits for pending
writes so a clean shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llm_vcr.store import RecordingStore
from llm_vcr.store.recording import Recording

log = logging.getLogger("llm_vcr")

MODES = ("replay", "record", "auto", "live")
META = "llm_vcr"  # flow.metadata key: {"resource", "key", "outcome", "recording", "paced_from", …}
SECRET_POLICIES = ("redact", "refuse")


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    recorded: int = 0
    partial: int = 0
    redacted: int = 0  # recordings written with secrets replaced
    refused: int = 0  # recordings not written because they held secrets (vcr_secrets=refuse)
    blocked: int = 0  # upstream connections refused in replay mode
    tokens_saved: int = 0  # usage of the answers replayed instead of paid for
    miss_keys: list[str] = field(default_factory=list)


class Vcr:
    def __init__(self) -> None:
        self.mode = "replay"
        self.secrets = "redact"
        self.served: set[Path] = set()
        self.new: list[Path] = []
        self.speed: float | None = None  # paced replay factor; None: instant
        self.pacer_address: tuple[str, int] | None = None  # the loopback pacing server, while running
        self.store = RecordingStore(Path("recordings"))
        self.stats = Stats()
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

    def open(self, folder: Path) -> None:
        self.store = RecordingStore(folder)
        report = self.store.load()
        for path, reason in report.skipped:
            log.warning(f"llm-vcr: skipped recording {path}: {reason}")
        extra = []
        if report.other_apis:
            extra.append(f"{report.other_apis} for APIs not replayed yet")
        if report.partial:
            extra.append(f"{report.partial} partial")
        if report.skipped:
            extra.append(f"{len(report.skipped)} unreadable")
        more = f" ({', '.join(extra)})" if extra else ""
        log.info(f"llm-vcr: {report.loaded} recordings in {folder}{more}; mode {self.mode}")

    def report(self) -> dict[str, object]:
        """What this run did: counts, misses, new recordings, and recordings it never used."""
        root = self.store.root

        def rel(p: Path) -> str:
            return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)

        unused = sorted(rel(p) for p in self.store.paths() if p not in self.served and p not in self.new)
        return {
            "mode": self.mode, "dir": str(root), **asdict(self.stats),
            "new_recordings": [rel(p) for p in self.new], "unused": unused,
        }  # fmt: skip

    def persist(self, build: Callable[[], Recording], on_done: Callable[[Path, Recording], None]) -> None:
        """Build and write a recording in the worker thread; then `on_done` runs on the event loop.

        Call from the event loop. `on_done` is queued and drained by the loop, or by `close()` at
        shutdown, when the loop no longer runs callbacks: no completed write goes uncounted.
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-vcr-writer")
        loop = asyncio.get_running_loop()

        def job() -> None:
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
                path = self.store.write(rec)
            except Exception:
                log.exception("llm-vcr: could not write a recording")
                return
            self._completed.put((on_done, path, rec))
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
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.drain()
