"""The official mcp SDK (1.x) client: initialize, Mcp-Session-Id, SSE answers; calls in either order."""

import asyncio
import os
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client


async def main(order):
    async with streamablehttp_client(os.environ["MCP_URL"]) as (read, write, _):
        async with ClientSession(read, write) as s:
            await s.initialize()
            out = {}

            async def tools():
                out["TOOLS"] = [t.name for t in (await s.list_tools()).tools]

            async def call():
                out["CALL"] = (
                    (await s.call_tool("get_weather", {"city": os.environ.get("CITY", "Paris")})).content[0].text
                )

            async def res():
                out["RESOURCE"] = (await s.read_resource("notes://today")).contents[0].text

            async def prompt():
                out["PROMPT"] = (await s.get_prompt("ask", {"city": "Lyon"})).messages[0].content.text

            steps = [tools, call, res, prompt]
            for step in steps if order == "forward" else steps[::-1]:
                await step()
            for k in sorted(out):
                print(k, out[k])


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "forward"))
