"""pydantic-ai against a provider that sends empty tool-call ids: it makes up pyd_ai_<hex> ones, new every run."""

import os

from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

model = OpenAIChatModel("fake-empty-ids", provider=OpenAIProvider(base_url=os.environ["UPSTREAM"] + "/v1",
                                                                  api_key="sk-test"))  # fmt: skip
agent = Agent(model, system_prompt="Use the tools.")


@agent.tool_plain
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@agent.tool_plain
def get_time(city: str) -> str:
    """The local time in a city."""
    return f"21:00 in {city}"


result = agent.run_sync("What are the weather and the time in Paris?")
calls = [p.tool_name for m in result.all_messages() for p in getattr(m, "parts", []) if p.part_kind == "tool-call"]
print("TOOL CALLS", calls)
print("FINAL", result.output)
