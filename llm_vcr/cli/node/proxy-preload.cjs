// Preloaded by `llm-vcr run` (NODE_OPTIONS=--require): make Node's global fetch, which the
// openai SDK uses, honour HTTP(S)_PROXY. Node >= 22.21 / 24 do it themselves with
// NODE_USE_ENV_PROXY=1; Node 20 needs undici's EnvHttpProxyAgent, taken from the app's own
// node_modules (`npm install undici@7`). It never throws: a preload must not break the app.
"use strict";
(function () {
  if (!(process.env.HTTPS_PROXY || process.env.HTTP_PROXY)) return;
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major >= 24 || (major === 22 && minor >= 21)) return; // NODE_USE_ENV_PROXY covers it
  let undici;
  try {
    undici = require(require.resolve("undici", { paths: [process.cwd(), __dirname] }));
  } catch (e) {
    process.emitWarning(
      `llm-vcr: Node ${process.versions.node}'s fetch ignores HTTP(S)_PROXY; install undici@7 in your ` +
        "project (npm install -D undici@7) so llm-vcr can route it, or use reverse mode (--upstream URL)."
    );
    return;
  }
  undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
})();
