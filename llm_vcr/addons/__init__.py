"""mitmproxy glue: small addons composed around one shared `Vcr` state."""

from __future__ import annotations

from ..vcr import Vcr
from .offline import OfflineGuard
from .record import Record
from .replay import Replay
from .settings import Settings


def make_addons(vcr: Vcr | None = None) -> list[object]:
    """The addons in hook order: Settings configures, Replay answers, Record tees, OfflineGuard blocks."""
    vcr = vcr or Vcr()
    return [Settings(vcr), Replay(vcr), Record(vcr), OfflineGuard(vcr)]
