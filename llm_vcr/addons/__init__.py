"""mitmproxy glue: small addons composed around one shared `Vcr` state."""

from __future__ import annotations

from ..vcr import Vcr
from .commands import Commands
from .offline import OfflineGuard
from .pacer import Pacer
from .record import Record
from .replay import Replay
from .settings import Settings
from .view import View


def make_addons(vcr: Vcr | None = None) -> list[object]:
    """The addons in hook order: Settings configures, Replay answers (instantly or through the Pacer),
    Record tees, View keeps streamed bodies visible, OfflineGuard blocks, Commands for the command bar."""
    vcr = vcr or Vcr()
    pacer = Pacer(vcr)
    return [Settings(vcr), Replay(vcr, pacer), Record(vcr), pacer, View(), OfflineGuard(vcr), Commands(vcr)]
