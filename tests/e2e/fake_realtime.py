"""A scripted WebSocket server speaking the OpenAI Realtime API's events (`/v1/realtime?model=…`) and
the Responses API's WebSocket mode (`/v1/responses`), built on the `websockets` package.

Like the real service it generates fresh ids (`sess_…`, `item_…`, `resp_…`) on every connection, so a
replay that served live events instead of recorded ones would show; answers echo the last user text.
Binary messages are echoed reversed, text that is not JSON is answered `pong: <text>`. `drop_after`
makes the next session's connection drop (no close frame) after that many server events.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading

from websockets.asyncio.server import ServerConnection, serve

WORDS = ["You ", "said: "]


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class FakeRealtime:
    def __init__(self) -> None:
        self.connections: list[str] = []  # request paths, in order
        self.drop_after: int | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await serve(self._session, "127.0.0.1", 0, compression=None)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()

    def close(self) -> None:
        """Stop serving (idempotent): later connections are refused."""
        if not self._thread.is_alive():
            return

        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _session(self, ws: ServerConnection) -> None:
        path = ws.request.path
        self.connections.append(path)
        drop, self.drop_after = self.drop_after, None
        sent = 0

        async def send(event: dict) -> None:
            nonlocal sent
            if drop is not None and sent >= drop:
                ws.transport.abort()  # the connection drops: no close frame
                raise asyncio.CancelledError
            event.setdefault("event_id", _id("event"))
            await ws.send(json.dumps(event))
            sent += 1

        responses = path.split("?")[0].endswith("/responses")
        if not responses:
            await send({"type": "session.created", "session": {"id": _id("sess"), "type": "realtime",
                                                               "model": path.partition("model=")[2]}})  # fmt: skip
        last_text = ""
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.send(message[::-1])
                    continue
                try:
                    event = json.loads(message)
                except ValueError:
                    await ws.send(f"pong: {message}")
                    continue
                kind = event.get("type")
                if kind == "session.update":
                    await send({"type": "session.updated", "session": {"id": _id("sess"), **event["session"]}})
                elif kind == "conversation.item.create":
                    item = {"id": _id("item"), **event["item"]}
                    last_text = next((c.get("text", "") for c in item.get("content", [])), "")
                    await send({"type": "conversation.item.created", "item": item})
                elif kind == "response.create" and responses:
                    await self._responses_turn(send, event)
                elif kind == "response.create":
                    await self._realtime_turn(send, last_text)
        except asyncio.CancelledError:
            return

    @staticmethod
    async def _realtime_turn(send, text: str) -> None:
        rid, iid = _id("resp"), _id("item")
        await send({"type": "response.created", "response": {"id": rid, "status": "in_progress"}})
        for piece in [*WORDS, text]:
            await send({"type": "response.output_text.delta", "response_id": rid, "item_id": iid,
                        "output_index": 0, "content_index": 0, "delta": piece})  # fmt: skip
            await asyncio.sleep(0.01)
        full = "".join(WORDS) + text
        await send({"type": "response.output_text.done", "response_id": rid, "item_id": iid, "output_index": 0,
                    "content_index": 0, "text": full})  # fmt: skip
        await send({"type": "response.done", "response": {"id": rid, "status": "completed", "output": [
            {"id": iid, "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": full}]}],
            "usage": {"total_tokens": 7, "input_tokens": 3, "output_tokens": 4}}})  # fmt: skip

    @staticmethod
    async def _responses_turn(send, event: dict) -> None:
        text = str(event.get("input") or "")
        rid = _id("resp")
        response = {"id": rid, "object": "response", "status": "in_progress", "model": event.get("model"), "output": []}
        await send({"type": "response.created", "sequence_number": 0, "response": response})
        full = "".join(WORDS) + text
        for i, piece in enumerate([*WORDS, text]):
            await send({"type": "response.output_text.delta", "sequence_number": i + 1, "item_id": "msg_1",
                        "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []})  # fmt: skip
        content = [{"type": "output_text", "text": full, "annotations": []}]
        message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed", "content": content}
        done = {**response, "status": "completed", "output": [message]}
        await send({"type": "response.completed", "sequence_number": 9, "response": done})
