// Test client: the official openai SDK on Node. Knows nothing about llm-vcr.
import { readFileSync } from "node:fs";
import OpenAI from "openai";

const requests = new URL("../requests/", import.meta.url);
const client = new OpenAI({ maxRetries: 0, timeout: 60_000 }); // OPENAI_BASE_URL, OPENAI_API_KEY from env

for (const name of ["stream", "tool_stream", "chat", "embeddings"]) {
  const body = JSON.parse(readFileSync(new URL(`${name}.json`, requests), "utf8"));
  if (name === "embeddings") {
    const { data, response } = await client.embeddings.create(body).withResponse();
    console.log(name, "STATUS", response.status);
    console.log(name, "BODY", JSON.stringify(data));
  } else if (body.stream) {
    const { data, response } = await client.chat.completions.create(body).withResponse();
    console.log(name, "STATUS", response.status);
    for await (const chunk of data) console.log(name, "DATA", JSON.stringify(chunk));
    console.log(name, "DONE");
  } else {
    const { data, response } = await client.chat.completions.create(body).withResponse();
    console.log(name, "STATUS", response.status);
    console.log(name, "BODY", JSON.stringify(data));
  }
}
