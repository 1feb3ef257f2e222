"""A real MCP server (mcp 2.x MCPServer) over streamable HTTP: a tool, a resource, a prompt."""

import sys

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("weather")


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


json_response = sys.argv[2] == "json"
stateless = sys.argv[3] == "stateless"
mcp.run(
    transport="streamable-http",
    host="127.0.0.1",
    port=int(sys.argv[1]),
    json_response=json_response,
    stateless_http=stateless,
)
