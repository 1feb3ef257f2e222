"""LangChain ChatOpenAI, streaming, with tools: the loop an agent runs by hand."""

import os

from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


llm = ChatOpenAI(model="fake-model", base_url=os.environ["UPSTREAM"] + "/v1", api_key="sk-test", streaming=True,
                 max_retries=2).bind_tools([get_weather])  # fmt: skip
messages = [HumanMessage("What is the weather in Paris?")]
calls = []
for _ in range(4):
    answer = llm.invoke(messages)
    messages.append(answer)
    if not answer.tool_calls:
        break
    for call in answer.tool_calls:
        calls.append(call["name"])
        messages.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
print("TOOL CALLS", calls)
print("FINAL", answer.content)
