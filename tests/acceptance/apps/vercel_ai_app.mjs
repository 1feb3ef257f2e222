// The Vercel AI SDK (@ai-sdk/openai-compatible) against a provider that omits tool-call ids:
// it makes up its own with generateId(), new every run.
import { generateText, stepCountIs, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";

const provider = createOpenAICompatible({ name: "fake", baseURL: process.env.UPSTREAM + "/v1", apiKey: "sk-test" });
const city = z.object({ city: z.string() });
const result = await generateText({
  model: provider("fake-omit-ids"),
  tools: {
    get_weather: tool({ description: "The weather in a city.", inputSchema: city, execute: async ({ city }) => `sunny in ${city}` }),
    get_time: tool({ description: "The local time in a city.", inputSchema: city, execute: async ({ city }) => `21:00 in ${city}` }),
  },
  stopWhen: stepCountIs(5),
  prompt: "What are the weather and the time in Paris?",
});
console.log("TOOL CALLS", JSON.stringify(result.steps.flatMap((s) => s.toolCalls.map((c) => c.toolName))));
console.log("STEPS", result.steps.length);
console.log("FINAL", result.text);
