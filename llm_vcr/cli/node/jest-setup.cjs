// Jest: add this file to `setupFilesAfterEnv` (`llm-vcr node-setup --jest` prints its path). Each
// test's LLM calls then use its own recordings folder; works with Jest's worker processes.
"use strict";
const scope = require("./llm-vcr-scope.cjs");

beforeEach(async () => {
  const state = expect.getState();
  await scope.begin(state.testPath, state.currentTestName);
});
afterEach(async () => {
  await scope.end();
});
