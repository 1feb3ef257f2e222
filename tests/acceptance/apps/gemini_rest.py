"""Gemini's REST stream without alt=sse: a JSON array streamed element by element (urllib, proxy from env)."""

import json
import os
import urllib.request

body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "Stream as an array."}]}]}).encode()
url = os.environ["UPSTREAM"] + "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
req = urllib.request.Request(
    url, body, {"content-type": "application/json", "x-goog-api-key": os.environ["GEMINI_API_KEY"]}
)
with urllib.request.urlopen(req, timeout=30) as r:
    chunks = json.loads(r.read())
print("ARRAY", len(chunks), "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks))
