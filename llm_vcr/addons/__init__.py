"""mitmproxy glue: small addons composed around one shared `Vcr` state."""

from __future__ import annotations

from llm_vcr.addons.commands import Commands
from llm_vcr.addons.loopback import Loopback
from llm_vcr.addons.offline import OfflineGuard
from llm_vcr.addons.output import OutputRedaction
from llm_vcr.addons.pacer import Pacer
from llm_vcr.addons.record import Record
from llm_vcr.addons.replay import Replay
from llm_vcr.addons.scopes import Scopes
from llm_vcr.addons.settings import Settings
from llm_vcr.addons.sockets import SocketReplay
from llm_vcr.addons.view import View
from llm_vcr.vcr import Vcr


def make_addons(vcr: Vcr | None = None) -> list[object]:
    """The addons in hook order: Settings configures, Scopes finds each flow's test, Replay answers
    (instantly, or through the loopback server: paced by the Pacer, WebSocket sessions by SocketReplay),
    Record tees, View keeps streamed bodies visible, OfflineGuard blocks, Commands for the command
    bar, OutputRedaction keeps keys out of what mitmproxy prints."""
    vcr = vcr or Vcr()
    loopback = Loopback(vcr)
    pacer, sockets = Pacer(vcr, loopback), SocketReplay(vcr, loopback)
    return [
        Settings(vcr), Scopes(vcr), Replay(vcr, pacer, sockets), Record(vcr), loopback, pacer, View(vcr),
        OfflineGuard(vcr), Commands(vcr), OutputRedaction(),
    ]  # fmt: skip
