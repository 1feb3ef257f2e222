"""Recognise LLM requests and, when replaying, answer them from recordings in `request`.

Answering in `request` (with connection_strategy=lazy) means mitmproxy never dials the
upstream. mitmproxy forwards a flow whose hook raised, so in replay mode every failure
here still answers with an error: replay never reaches the network.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

from mitmproxy import http

from llm_vcr import redaction
from llm_vcr.addons.pacer import Pacer
from llm_vcr.apis import Resource, classify
from llm_vcr.capture import request_body
from llm_vcr.matching import misses
from llm_vcr.matching.keys import request_key
from llm_vcr.store.recording import ReplayResponse
from llm_vcr.vcr import META, Vcr

log = logging.getLogger("llm_vcr")


def _response(answer: ReplayResponse) -> http.Response:
    """A fresh response for `answer`: a copy of one built once per recording (cheaper than make())."""
    template = answer.prepared
    if not isinstance(template, http.Response):
        headers = {"content-type": answer.content_type, **answer.headers, "x-llm-vcr": "replay"}
        template = answer.prepared = http.Response.make(answer.status, answer.body, headers)
    response = template.copy()
    response.timestamp_start = response.timestamp_end = time.time()
    return response


class Replay:
    name = "vcr_replay"

    def __init__(self, vcr: Vcr, pacer: Pacer | None = None) -> None:
        self.vcr = vcr
        self.pacer = pacer

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        """Synchronous on every path but a miss, which returns an awaitable (mitmproxy awaits it):
        explaining a miss reads other recordings, and that disk work must not stall the event loop."""
        # Already answered, or loaded from a file: nothing to do. A client replay (mitmweb's "Replay")
        # is a request like any other: answered from recordings in replay mode, recorded in record mode.
        if flow.response is not None or flow.is_replay == "response" or not flow.live:
            return None
        resource = classify(flow.request.method, flow.request.path)
        if resource is None:
            return None  # not LLM traffic: untouched in every mode
        try:
            return self._handle(flow, resource)
        except Exception as e:
            self._failed(flow, e)
            return None

    def _failed(self, flow: http.HTTPFlow, error: Exception) -> None:
        log.exception("llm-vcr: error while handling an LLM request", exc_info=error)
        if self.vcr.mode == "replay":
            self._answer(flow, misses.internal(error))

    def _handle(self, flow: http.HTTPFlow, resource: Resource) -> Awaitable[None] | None:
        vcr = self.vcr
        meta: dict[str, str] = {"resource": resource.name}
        flow.metadata[META] = meta
        try:
            raw = flow.request.get_content(strict=False) if resource.has_body else None
            body = request_body(raw)
            if resource.has_body and not isinstance(body, dict):
                raise ValueError("the request body is JSON but not an object")
        except ValueError as e:
            meta["outcome"] = "unmatchable"
            if vcr.mode == "replay":
                vcr.stats.misses += 1
                self._answer(flow, misses.unmatchable(str(e)))
            else:
                log.warning(f"llm-vcr: {flow.request.pretty_url}: {e}; passed through, not recorded")
            return None
        # Recordings store secrets as placeholders: redact the live body the same way to match them.
        if raw and redaction.may_contain(raw):
            body = redaction.redact(body)
        key = meta["key"] = request_key(flow.request.method, resource, body)
        if vcr.mode == "live":
            meta["outcome"] = "live"
            return None
        if vcr.replays and (hit := vcr.store.take(key)) is not None:
            path, answer, rec = hit
            meta.update(outcome="replayed", recording=str(path))
            vcr.stats.hits += 1
            vcr.served.add(path)
            vcr.stats.tokens_saved += rec.tokens if rec is not None else 0
            flow.marked, flow.comment = ":repeat:", f"llm-vcr: replayed from {path.name}"
            if self.pacer is not None and self.pacer.divert(flow, answer):
                return None  # served at the recorded pace by the loopback pacing server
            flow.response = _response(answer)
            flow.is_replay = "response"
            return None
        if vcr.mode == "replay":
            vcr.stats.misses += 1
            vcr.stats.miss_keys.append(key)
            meta["outcome"] = "miss"
            return self._miss(flow, resource, key, body)
        meta["outcome"] = "recording"  # the Record addon tees the response
        return None

    async def _miss(self, flow: http.HTTPFlow, resource: Resource, key: str, body: object) -> None:
        try:
            nearest = await asyncio.to_thread(self.vcr.store.nearest, resource, body)
            answer = misses.miss(flow.request.method, resource, key, self.vcr.store.root, nearest)
            log.warning(answer.message)
            flow.marked, flow.comment = ":x:", answer.message
            self._answer(flow, answer)
        except Exception as e:  # still an answer: a miss must never reach the upstream
            self._failed(flow, e)

    @staticmethod
    def _answer(flow: http.HTTPFlow, answer: misses.ErrorAnswer) -> None:
        flow.response = http.Response.make(
            answer.status, answer.body, {"content-type": "application/json", **misses.NO_RETRY_HEADERS}
        )
