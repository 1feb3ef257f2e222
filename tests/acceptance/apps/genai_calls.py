"""The google-genai SDK, unmodified, against Vertex AI (express mode, the real host through the proxy):
each call of calls.json, printed as one JSON line of what the answer holds (text and function calls)."""

import json
import os

from google import genai

client = genai.Client(vertexai=True, api_key=os.environ["GOOGLE_API_KEY"])
for call in json.load(open("calls.json")):
    kwargs = {"model": call["model"], "contents": call["contents"], "config": call["config"]}
    chunks = (
        client.models.generate_content_stream(**kwargs)
        if call["stream"]
        else [client.models.generate_content(**kwargs)]
    )
    parts = []
    for chunk in chunks:
        for part in chunk.candidates[0].content.parts or []:
            if part.text is not None:
                parts.append(["text", part.text])
            elif part.function_call is not None:
                parts.append(["call", part.function_call.name, part.function_call.args])
    print(json.dumps(parts))
