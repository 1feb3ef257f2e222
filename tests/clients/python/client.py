"""Test client: the official openai Python SDK. Knows nothing about llm-vcr."""

import json
import os
import sys
from pathlib import Path

import openai

REQUESTS = Path(__file__).resolve().parent.parent / "requests"


def main() -> None:
    client = openai.OpenAI(max_retries=0, timeout=60)  # OPENAI_BASE_URL, OPENAI_API_KEY, proxy env from outside
    for name in ("stream", "tool_stream", "chat", "embeddings"):
        body = json.loads((REQUESTS / f"{name}.json").read_text())
        if name == "embeddings":
            resp = client.embeddings.with_raw_response.create(**body)
            print(name, "STATUS", resp.status_code)
            print(name, "BODY", json.dumps(resp.parse().to_dict()))
        elif body.get("stream"):
            resp = client.chat.completions.with_raw_response.create(**body)
            print(name, "STATUS", resp.status_code)
            for chunk in resp.parse():
                print(name, "DATA", json.dumps(chunk.to_dict()))
            print(name, "DONE")
        else:
            resp = client.chat.completions.with_raw_response.create(**body)
            print(name, "STATUS", resp.status_code)
            print(name, "BODY", json.dumps(resp.parse().to_dict()))
    sys.stdout.flush()


if __name__ == "__main__":
    assert os.environ.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL is not set"
    main()
