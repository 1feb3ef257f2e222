// Per-test scopes for Node test runners (used by vitest-setup.mjs and jest-setup.cjs).
// Before each test: the test's name ("<file relative to the project>::<test name>") becomes the scope of
// (1) every fetch of this worker, through proxy credentials on undici's global dispatcher (so Vitest's
// `threads` pool works: threads share a process), and (2) this process and its children, bound
// through the proxy's control API (so `forks`, Jest workers and child processes work). After the
// test: unbound, and a test whose LLM calls missed fails with the miss message.
"use strict";
const http = require("node:http");
const path = require("node:path");
const { createRequire } = require("node:module");
const { isMainThread } = require("node:worker_threads");

const proxy = process.env.LLM_VCR_PROXY; // set by `llm-vcr run`
const root = process.env.LLM_VCR_CWD || process.cwd();
let current = null;
let undici = null;
try {
  undici = createRequire(path.join(process.cwd(), "noop.js"))("undici");
} catch {
  undici = null; // then only the process binding scopes this test (fine outside worker threads)
}

function control(method, scope) {
  const url = new URL("/__llm-vcr/scope", proxy);
  const body = JSON.stringify({ scope, pid: isMainThread ? process.pid : undefined });
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () =>
        res.statusCode === 200 ? resolve(JSON.parse(data)) : reject(new Error(`llm-vcr scope ${scope}: ${data}`)),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function nameOf(testPath, testName) {
  const file = testPath ? path.relative(root, testPath).split(path.sep).join("/") : "";
  return file ? `${file}::${testName}` : String(testName);
}

async function begin(testPath, testName) {
  if (!proxy) return;
  current = nameOf(testPath, testName);
  await control("POST", current);
  if (undici) {
    const u = new URL(proxy);
    // undici sends proxy credentials only when the URL has a password too: any will do.
    const withScope = `${u.protocol}//${encodeURIComponent(current)}:llm-vcr@${u.host}`;
    undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent({ httpProxy: withScope, httpsProxy: withScope }));
  }
}

async function end() {
  if (!proxy || current === null) return;
  const scope = current;
  current = null;
  if (undici) undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
  const summary = await control("DELETE", scope);
  if (summary.misses) {
    throw new Error(`llm-vcr: ${summary.misses} LLM calls of this test missed (scope ${scope}):\n` +
      (summary.messages || []).join("\n\n"));
  }
}

module.exports = { begin, end, nameOf };
