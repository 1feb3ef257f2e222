"""The google-genai SDK, unmodified: generate, stream (alt=sse), embed, count tokens."""

import os

from google import genai
from google.genai import types

client = genai.Client(
    api_key=os.environ["GEMINI_API_KEY"], http_options=types.HttpOptions(base_url=os.environ["UPSTREAM"])
)
r = client.models.generate_content(model="gemini-2.0-flash", contents="What is the weather in Paris?")
print("GENERATE", r.text, r.usage_metadata.total_token_count)
print(
    "STREAM",
    "".join(
        c.text or "" for c in client.models.generate_content_stream(model="gemini-2.0-flash", contents="And in Lyon?")
    ),
)
e = client.models.embed_content(model="text-embedding-004", contents="Paris")
print("EMBED", e.embeddings[0].values)
print("COUNT", client.models.count_tokens(model="gemini-2.0-flash", contents="one two three").total_tokens)
