"""A real MCP server (mcp 1.x FastMCP) over streamable HTTP, session-based, SSE answers."""

import sys

from mcp.server.fastmcp import FastMCP

mcp = FastMCP(
    "weather",
    host="127.0.0.1",
    port=int(sys.argv[1]),
    json_response=sys.argv[2] == "json",
    stateless_http=sys.argv[3] == "stateless",
)


@mcp.tool()
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@mcp.resource("notes://today")
def today() -> str:
    return "Bring an umbrella."


@mcp.prompt()
def ask(city: str) -> str:
    return f"What is the weather in {city}?"


mcp.run(transport="streamable-http")
