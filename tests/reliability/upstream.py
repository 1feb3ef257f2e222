"""A streaming upstream whose every answer names the request it answers (to detect mix-ups)."""

import json

from ..e2e.harness import ScriptedUpstream, sse_response

CHUNKS = 20


def chunk(marker: str, i: int, final: bool = False, n: int = 0) -> bytes:
    data = {
        "id": f"c-{marker}-{n}",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": f"{marker}:{i} "}, "finish_reason": "stop" if final else None}],
    }
    return b"data: " + json.dumps(data).encode() + b"\n\n"


class EchoUpstream(ScriptedUpstream):
    """Each answer's text names the request's marker; its id also numbers the answer (c-<marker>-<n>)."""

    def __init__(self, delay: float = 0.005) -> None:
        super().__init__({"/v1/chat/completions": self.echo_stream}, delay=delay)
        self.served = 0

    def echo_stream(self, body: bytes) -> list[bytes]:
        marker = json.loads(body)["messages"][0]["content"]
        self.served += 1
        events = [chunk(marker, i, final=i == CHUNKS - 1, n=self.served) for i in range(CHUNKS)]
        return sse_response(*events, b"data: [DONE]\n\n")


def request(marker: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": marker}], "stream": True}
