"""The official mcp SDK (2.x) client: the stateless streamable HTTP transport, JSON answers."""

import asyncio
import os
import sys

from mcp import Client


async def main(order: str) -> None:
    async with Client(os.environ["MCP_URL"]) as c:
        out = {}

        async def tools():
            out["TOOLS"] = [t.name for t in (await c.list_tools()).tools]

        async def call():
            out["CALL"] = (await c.call_tool("get_weather", {"city": os.environ.get("CITY", "Paris")})).content[0].text

        async def res():
            out["RESOURCE"] = (await c.read_resource("notes://today")).contents[0].text

        async def prompt():
            out["PROMPT"] = (await c.get_prompt("ask", {"city": "Lyon"})).messages[0].content.text

        steps = [tools, call, res, prompt]
        for step in steps if order == "forward" else steps[::-1]:
            await step()
        for k in sorted(out):
            print(k, out[k])


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "forward"))
