"""Seeing LLM traffic in mitmweb and the console: a content view, and bodies kept after streaming.

The `llm` view shows the assembled answer (text, tool calls with merged arguments, finish
reason, usage, number of chunks) of any API's stream or body, and of a recording file. It is
chosen automatically for LLM flows. mitmproxy keeps no body of a streamed response, so LLM
streams passing through unrecorded (live mode, paced replay) are tapped up to `vcr_view_limit`.
"""

from __future__ import annotations

import logging

from mitmproxy import contentviews, ctx, http
from mitmproxy.contentviews import Contentview, Metadata, SyntaxHighlight

from llm_vcr import framings
from llm_vcr.addons.hooks import FlowHook
from llm_vcr.apis import Framing, Resource, classify
from llm_vcr.assemble import assemble, render
from llm_vcr.bodies import loads
from llm_vcr.store.recording import Recording, RecordingError
from llm_vcr.vcr import META, Vcr

log = logging.getLogger("llm_vcr")


def _chunks(resource: Resource, data: bytes, content_type: str) -> tuple[list[object], bool]:
    framing = framings.of_content_type(content_type, resource.framing)
    streamed = (
        content_type.startswith(("text/event-stream", "application/vnd.amazon.eventstream"))
        or (framing is Framing.NDJSON and b"\n" in data.strip())
        or (resource.streaming and data.lstrip()[:1] == b"[")
    )
    if not streamed:
        return [_json(data)], False
    parser = framings.parser(framing)
    events = [e for e in parser.feed(data) + parser.finish() if not e.is_done]
    return [_json(e.data) for e in events], True


def _json(text: str | bytes) -> object:
    try:
        return loads(text)
    except ValueError:
        return None


class LlmView(Contentview):
    name = "llm"
    syntax_highlight: SyntaxHighlight = "yaml"

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        resource = self._resource(metadata)
        if resource is None:  # a recording file
            try:
                rec = Recording.from_json(loads(data))
            except (RecordingError, ValueError) as e:
                return f"not a readable recording: {e}"
            if rec.resource is None:
                return "a recording of an API llm-vcr does not replay"
            head = f"recording of {rec.method} {rec.endpoint}" + (f"  (partial: {rec.partial})" if rec.partial else "")
            ans = assemble(rec.resource, rec.chunks, rec.is_streaming)
            return head + "\n" + render(ans, rec.is_streaming)
        chunks, streaming = _chunks(resource, data, metadata.content_type or "")
        note = ""
        if metadata.flow is not None and metadata.flow.metadata.get(META, {}).get("body_truncated"):
            note = f"\n# shown up to vcr_view_limit ({ctx.options.vcr_view_limit} bytes): the rest was not kept"
        return render(assemble(resource, chunks, streaming), streaming) + note

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        if self._resource(metadata) is not None and metadata.http_message is not None:
            return 2.0 if isinstance(metadata.http_message, http.Response) else -1
        ctype = metadata.content_type or ""
        if ctype in ("application/json", "text/plain", "") and b'"request"' in data[:400] and b'"response"' in data:
            return 1.1  # a recording file served or uploaded somewhere: above the plain JSON view
        return -1

    @staticmethod
    def _resource(metadata: Metadata) -> Resource | None:
        flow = metadata.flow
        if isinstance(flow, http.HTTPFlow):
            return classify(flow.request.method, flow.request.path)
        return None


class View:
    name = "vcr_view"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr
        self._kept: dict[str, list[bytes]] = {}  # flow id -> bounded copy of a stream passed on unrecorded

    # Replayed answers are whole bodies: in plain replay the flow hooks have nothing to do and are hidden
    # (see `hooks.FlowHook`), unless a stream tapped before a switch to replay is still open.
    def _busy(self) -> bool:
        return not self.vcr.plain_replay or bool(self._kept)

    responseheaders, response, error = FlowHook(_busy), FlowHook(_busy), FlowHook(_busy)

    def load(self, loader) -> None:
        loader.add_option(
            "vcr_view_limit", int, 4_000_000,
            "Keep at most this many bytes of each streamed LLM response for mitmweb and the console to show "
            "(mitmproxy keeps no streamed body otherwise).",
        )  # fmt: skip
        contentviews.add(LlmView)

    def _responseheaders(self, flow: http.HTTPFlow) -> None:
        meta = flow.metadata.get(META)
        if not isinstance(meta, dict) or flow.response is None:
            return
        limit = ctx.options.vcr_view_limit
        stream = flow.response.stream
        if stream is True:  # passed on unrecorded (live mode, paced replay): keep a bounded copy
            kept: list[bytes] = self._kept.setdefault(flow.id, [])
            size = 0

            def tap(data: bytes) -> bytes:
                nonlocal size
                if data and size < limit:
                    kept.append(data[: limit - size])
                    size += len(kept[-1])
                    if size >= limit:
                        meta["body_truncated"] = True
                return data

            flow.response.stream = tap

    def _response(self, flow: http.HTTPFlow) -> None:
        meta = flow.metadata.get(META)
        if not isinstance(meta, dict) or flow.response is None:
            return
        kept = self._kept.pop(flow.id, None)
        if kept is not None:
            flow.response.raw_content = b"".join(kept)
        elif flow.response.raw_content is not None and len(flow.response.raw_content) > ctx.options.vcr_view_limit:
            if flow.response.stream:  # a recorded stream: the recording has it all, the view a bounded part
                flow.response.raw_content = flow.response.raw_content[: ctx.options.vcr_view_limit]
                meta["body_truncated"] = True

    def _error(self, flow: http.HTTPFlow) -> None:
        kept = self._kept.pop(flow.id, None)
        if kept is not None and flow.response is not None:
            flow.response.raw_content = b"".join(kept)
