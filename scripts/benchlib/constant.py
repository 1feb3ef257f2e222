"""Bench: the ceiling of any addon inside mitmproxy — answer every LLM call with fixed bytes from `request`.

The bytes (and content type) come from BENCH_BODY / BENCH_CTYPE, the same bytes llm-vcr replays.
"""

import os

from mitmproxy import http

BODY = open(os.environ["BENCH_BODY"], "rb").read()
HEADERS = {"content-type": os.environ.get("BENCH_CTYPE", "application/json")}


def request(flow: http.HTTPFlow) -> None:
    flow.response = http.Response.make(200, BODY, HEADERS)
