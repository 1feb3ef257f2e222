"""The `websockets` package, unmodified (proxy from the environment): a Realtime session with JSON
events, a binary message and a text message that is not JSON; then the Responses API's WebSocket mode."""

import asyncio
import json
import os

from websockets.asyncio.client import connect

BASE = os.environ["UPSTREAM"].replace("http://", "ws://")
AUTH = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}


async def main() -> None:
    async with connect(f"{BASE}/realtime?model=gpt-realtime-mini", additional_headers=AUTH) as ws:
        print("FIRST", json.loads(await ws.recv())["session"]["id"])
        await ws.send(json.dumps({"type": "session.update", "session": {"instructions": "Be brief."}}))
        print("UPDATED", json.loads(await ws.recv())["session"]["instructions"])
        await ws.send(b"\x00\x01binary\xff")
        print("BINARY", await ws.recv())
        await ws.send("hello, not JSON")
        print("TEXT", await ws.recv())
    async with connect(f"{BASE}/responses", additional_headers=AUTH) as ws:
        await ws.send(json.dumps({"type": "response.create", "model": "gpt-5", "input": "Hi there"}))
        deltas = []
        while True:
            event = json.loads(await ws.recv())
            if event["type"] == "response.output_text.delta":
                deltas.append(event["delta"])
            if event["type"] == "response.completed":
                print("RESPONSES", "".join(deltas), event["response"]["id"])
                break


asyncio.run(main())
