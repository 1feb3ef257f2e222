"""pytest plugin: each test's LLM calls go to its own recordings folder, safely under pytest-xdist.

Active under `llm-vcr run -- pytest` (which sets LLM_VCR_PROXY) or with `pytest --llm-vcr`
(`--llm-vcr-proxy URL` for a proxy started elsewhere); `-p no:llm_vcr` turns it off. Before each
test it binds the test's node id (or `@pytest.mark.llm_vcr(scope=...)`) to this process through
the proxy's control API, so every connection this process (or a child it starts) opens is that
test's: no header, no code change, and each xdist worker is its own process. After the call, a test
whose LLM calls missed fails with the miss message in its own report, even if the client swallowed
the 404. `@pytest.mark.llm_vcr(mode="record")` records one test while the rest replay.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

ENV = "LLM_VCR_PROXY"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-vcr")
    group.addoption("--llm-vcr", action="store_true", help="per-test recordings through the llm-vcr proxy "
                    "(automatic under `llm-vcr run -- pytest`)")  # fmt: skip
    group.addoption("--llm-vcr-proxy", metavar="URL", help=f"the proxy (default: ${ENV}, set by llm-vcr run)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "llm_vcr(scope=None, mode=None): this test's llm-vcr scope (default: its node id) and mode"
    )
    proxy = config.getoption("--llm-vcr-proxy") or os.environ.get(ENV)
    if config.getoption("--llm-vcr") and not proxy:
        raise pytest.UsageError("--llm-vcr needs the proxy: run under `llm-vcr run -- pytest`, or give --llm-vcr-proxy")
    if proxy:
        config.pluginmanager.register(ScopePerTest(proxy.rstrip("/")), "llm_vcr_scopes")


class ScopePerTest:
    def __init__(self, proxy: str) -> None:
        self.url = f"{proxy}/__llm-vcr/scope"
        # The control API is served by the proxy itself: talk to it directly, never through a proxy.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.bound: dict[str, str] = {}  # nodeid -> scope

    def _call(self, method: str, scope: str, **extra: object) -> dict[str, Any]:
        body = json.dumps({"scope": scope, "pid": os.getpid(), **extra}).encode()
        req = urllib.request.Request(self.url, body, {"content-type": "application/json"}, method=method)
        try:
            with self.opener.open(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise pytest.UsageError(f"llm-vcr: the proxy refused scope {scope!r}: {e.read().decode()}") from e

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        marker = item.get_closest_marker("llm_vcr")
        options = marker.kwargs if marker else {}
        scope = str(options.get("scope") or item.nodeid)
        self._call("POST", scope, **({"mode": options["mode"]} if options.get("mode") else {}))
        self.bound[item.nodeid] = scope

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report = outcome.get_result()
        scope = self.bound.get(item.nodeid)
        if call.when != "call" or scope is None or report.failed:
            return
        summary = self._call("GET", scope)
        if summary.get("misses"):
            report.outcome = "failed"
            messages = "\n\n".join(summary.get("messages") or []) or f"{summary['misses']} LLM calls missed"
            report.longrepr = f"llm-vcr: {summary['misses']} LLM calls of this test missed (scope {scope}):\n{messages}"

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        scope = self.bound.pop(item.nodeid, None)
        if scope is not None:
            self._call("DELETE", scope)
