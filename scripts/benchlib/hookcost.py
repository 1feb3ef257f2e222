"""7. Hook cost: the time one replayed request spends in addon hooks, in-process, with mitmproxy's own
dispatch (`AddonManager.handle_lifecycle`, every event of a flow and its `update`): no addon, the constant
addon, and llm-vcr's addons held as mitmproxy's script loader holds them (one entry, its addons children).
What llm-vcr adds per request over the constant addon, free of network and process noise."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT))

from mitmproxy import http
from mitmproxy.proxy.layers import http as layers
from mitmproxy.test import taddons, tflow

from llm_vcr.addons import make_addons
from llm_vcr.vcr import Vcr

EVENTS = (layers.HttpRequestHeadersHook, layers.HttpRequestHook, layers.HttpResponseHeadersHook,
          layers.HttpResponseHook)  # fmt: skip
EXAMPLE = ROOT / "recordings" / "chat_completions-417054c25f63b683-000.json"


class _Constant:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def request(self, flow: http.HTTPFlow) -> None:
        flow.response = http.Response.make(200, self.body, {"content-type": "application/json"})


class _Script:
    """What `mitmdump -s addon/llm_vcr.py` puts in the addon chain."""

    def __init__(self, addons: list) -> None:
        self.addons = addons


def _flow(body: bytes) -> http.HTTPFlow:
    f = tflow.tflow()
    f.request.method, f.request.path = "POST", "/v1/chat/completions"
    f.request.headers["content-type"] = "application/json"
    f.request.content = body
    return f


async def _per_flow_us(addons: list, setup, body: bytes, flows: int, rounds: int) -> float:
    with taddons.context(*addons) as tctx:
        setup(tctx)
        manager = tctx.master.addons
        results = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(flows):
                f = _flow(body)
                for event in EVENTS:
                    await manager.handle_lifecycle(event(f))
            results.append((time.perf_counter() - start) / flows * 1e6)
        assert addons == [] or (f.response is not None and f.response.status_code == 200), "not answered"
        return statistics.median(results)


def hook_cost(work: Path, flows: int = 3000, rounds: int = 5) -> dict:
    folder = work / "hooks"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder)
    body = json.dumps(json.loads(EXAMPLE.read_bytes())["request"]["body"]).encode()
    answer = json.dumps({"id": "x", "choices": []}).encode()
    vcr = Vcr()
    ours = make_addons(vcr)

    async def measure() -> dict:
        return {
            "no addon": await _per_flow_us([], lambda t: None, body, flows, rounds),
            "constant addon": await _per_flow_us([_Constant(answer)], lambda t: None, body, flows, rounds),
            "llm-vcr replay": await _per_flow_us(
                [_Script(ours)], lambda t: t.configure(ours[0], vcr_dir=str(folder), vcr_mode="replay"), body,
                flows, rounds,
            ),
        }  # fmt: skip

    res = asyncio.run(measure())
    res["llm-vcr over constant (µs)"] = res["llm-vcr replay"] - res["constant addon"]
    return res
