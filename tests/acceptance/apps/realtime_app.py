"""The openai SDK's Realtime client, unmodified: a session, two text turns, then close."""

import os
import sys

from openai import OpenAI

client = OpenAI(base_url=os.environ["UPSTREAM"], api_key=os.environ["OPENAI_API_KEY"])
questions = os.environ.get("QUESTIONS", "What is the weather in Paris?|And in Lyon?").split("|")
with client.realtime.connect(model="gpt-realtime") as conn:
    conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "instructions": "Be brief."})
    for question in questions:
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": question}]}
        )
        conn.response.create()
        text = []
        for event in conn:
            if event.type == "session.created":
                print("SESSION", event.session.id)
            elif event.type == "response.output_text.delta":
                text.append(event.delta)
            elif event.type == "error":
                print("ERROR", event.error.message)
                sys.exit(2)
            elif event.type == "response.done":
                print("ANSWER", "".join(text), event.response.id, event.response.usage.total_tokens)
                break
