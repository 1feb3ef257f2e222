"""FlowHook: a hook mitmproxy sees only while its addon has work; checked through mitmproxy's own dispatch."""

from mitmproxy.proxy.layers.http import HttpResponseHook
from mitmproxy.test import taddons, tflow

from llm_vcr.addons import make_addons
from llm_vcr.addons.hooks import FlowHook
from llm_vcr.addons.record import Record
from llm_vcr.vcr import Vcr


class Counting:
    def __init__(self) -> None:
        self.busy, self.calls = False, 0

    def _response(self, flow) -> None:
        self.calls += 1

    response = FlowHook(lambda self: self.busy)


def test_a_hook_is_called_only_while_busy() -> None:
    addon = Counting()
    with taddons.context(addon) as tctx:
        tctx.master.addons.invoke_addon_sync(addon, HttpResponseHook(tflow.tflow(resp=True)))
        assert addon.calls == 0 and addon.response is None
        addon.busy = True
        tctx.master.addons.invoke_addon_sync(addon, HttpResponseHook(tflow.tflow(resp=True)))
        assert addon.calls == 1 and addon.response == addon._response
    assert Counting.response.method == "_response"  # the class attribute stays the descriptor


def test_record_hooks_hidden_in_plain_replay_only(tmp_path) -> None:
    vcr = Vcr()
    addons = make_addons(vcr)
    record = next(a for a in addons if isinstance(a, Record))
    with taddons.context(*addons) as tctx:
        tctx.configure(addons[0], vcr_dir=str(tmp_path), vcr_mode="replay")
        assert vcr.plain_replay and record.response is None and record.responseheaders is None
        tctx.configure(addons[0], vcr_mode="auto")
        assert not vcr.plain_replay and record.response == record._response
        tctx.configure(addons[0], vcr_mode="replay", vcr_timing="real")  # paced: not plain
        assert not vcr.plain_replay
