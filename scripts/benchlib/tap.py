"""Bench control: the least an addon can do to tee a stream (mitmproxy's stream-callable path)."""

from mitmproxy import http


def responseheaders(flow: http.HTTPFlow) -> None:
    if flow.response is not None and flow.response.headers.get("content-type", "").startswith("text/event-stream"):
        flow.response.stream = lambda data: data
