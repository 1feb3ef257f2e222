"""The OpenAI Agents SDK in its default mode: Responses API, the official base URL, tracing on."""

from agents import Agent, Runner, function_tool


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"The weather in {city} is sunny."


agent = Agent(name="weather", instructions="Answer with the tools.", tools=[get_weather], model="gpt-4o-mini")
result = Runner.run_sync(agent, "What is the weather in Paris?")
print("TOOL CALLS", [i.raw_item.name for i in result.new_items if i.type == "tool_call_item"])
print("TURNS", len(result.raw_responses))
print("FINAL", result.final_output)
