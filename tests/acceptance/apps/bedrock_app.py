"""boto3's bedrock-runtime client, unmodified: Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream."""

import json
import os

import boto3

client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=os.environ.get("UPSTREAM"),
                      aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
model = "anthropic.claude-3-haiku-20240307-v1:0"
messages = [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}]
r = client.converse(modelId=model, messages=messages)
print("CONVERSE", r["output"]["message"]["content"][0]["text"], r["stopReason"])
stream = client.converse_stream(modelId=model, messages=[{"role": "user", "content": [{"text": "Stream it."}]}])
events = list(stream["stream"])
print("CONVERSE-STREAM", [next(iter(e)) for e in events])
print("TEXT", "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e))
body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "Invoke me."}]})  # fmt: skip
r = client.invoke_model(modelId=model, body=body)
print("INVOKE", json.loads(r["body"].read())["content"][0]["text"])
r = client.invoke_model_with_response_stream(modelId=model, body=body)
inner = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
print("INVOKE-STREAM", "".join(i["delta"]["text"] for i in inner if i["type"] == "content_block_delta"))
