"""Bench upstream: a keep-alive HTTP/1.1 server on a given port.

POST …/chat/completions answers by the request's "model":
  paced      20 SSE chunks, 10 ms apart (the record-path measurement)
  stream200  200 SSE chunks at once
  big        a 10 MB SSE stream (a large recording to write)
  huge       a 100 MB SSE stream
  anything else: a small JSON chat completion
"""

import asyncio
import json
import sys


def chunk(i: int, size: int = 0) -> bytes:
    data = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "bench",
        "choices": [{"index": 0, "delta": {"content": f"t{i} " + "x" * size}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(data).encode() + b"\n\n"


SMALL = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion",
        "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello " * 20}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25},
    }
).encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            model = json.loads(body).get("model", "") if body else ""
            if model in ("paced", "stream200", "big", "huge"):
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                n, size, gap = {"paced": (20, 0, 0.01), "stream200": (200, 0, 0), "big": (100, 100_000, 0),
                                "huge": (1000, 100_000, 0)}[model]  # fmt: skip
                for i in range(n):
                    ev = chunk(i, size)
                    writer.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                    await writer.drain()
                    if gap:
                        await asyncio.sleep(gap)
                done = b"data: [DONE]\n\n"
                writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
            else:
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(SMALL), SMALL)
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
