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


def test_header_names_are_lower_case_and_only_those_present():
    from mitmproxy import http

    from llm_vcr.addons.hooks import header_names

    headers = http.Headers([(b"X-LLM-VCR-Scope", b"t"), (b"Accept", b"*/*"), (b"accept", b"text/plain")])
    assert header_names(headers) == {b"x-llm-vcr-scope", b"accept"}


def test_a_scope_header_in_any_case_is_found_and_stripped(tmp_path):
    from llm_vcr.addons.scopes import Scopes

    vcr = Vcr()
    addons = make_addons(vcr)
    scopes_addon = next(a for a in addons if isinstance(a, Scopes))
    with taddons.context(*addons) as tctx:
        tctx.configure(addons[0], vcr_dir=str(tmp_path))
        f = tflow.tflow()
        f.request.headers["X-LLM-VCR-Scope"] = "tests/a.py::test_x"
        vcr.scopes["tests/a.py::test_x"] = object()  # already open: no folder work needed
        assert scopes_addon.requestheaders(f) is None
        assert "x-llm-vcr-scope" not in f.request.headers and f.metadata["llm_vcr_scope"] == "tests/a.py::test_x"


def test_a_scope_in_a_dialling_mode_makes_the_run_dial(tmp_path):
    from llm_vcr.scopes import Scope
    from llm_vcr.store import RecordingStore

    vcr = Vcr()
    scope = Scope("t", RecordingStore(tmp_path))
    vcr.scopes["t"] = scope
    assert vcr.plain_replay
    vcr.set_scope_mode(scope, "record")
    assert scope.mode == "record" and vcr.may_dial and not vcr.plain_replay
    vcr.set_scope_mode(scope, "replay")
    assert not vcr.may_dial
    vcr.set_scope_mode(scope, "live")
    vcr.open(tmp_path)  # scopes are reopened after a new folder
    assert not vcr.may_dial and vcr.scopes == {}
