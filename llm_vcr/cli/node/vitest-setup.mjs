// Vitest: add this file to `test.setupFiles` (`llm-vcr node-setup` prints its path). Each test's LLM
// calls then use its own recordings folder; works with the `forks` and `threads` pools.
import { afterEach, beforeEach, expect } from "vitest";
import scope from "./llm-vcr-scope.cjs";

beforeEach(async () => {
  const state = expect.getState();
  await scope.begin(state.testPath, state.currentTestName);
});
afterEach(async () => {
  await scope.end();
});
