"""Per-test recordings for Node and Go test runners: Vitest (forks and threads pools), Jest workers and
`go test -p 4`, each recorded serially and replayed in parallel with identical results, every test in
its own folder. The upstream is the counting scripted server of test_scopes.py: two tests that send
the same first request get different recorded answers, so a replay that mixed them up would show."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..e2e.harness import ROOT
from .conftest import run_cli
from .test_scopes import counting_upstream

NODE_MODULES = ROOT / "tests" / "clients" / "node" / "node_modules"

# The same test body for Vitest (ESM) and Jest (CommonJS): pairs with the same first request and
# different continuations, and one test that asks the same thing three times.
NODE_TESTS = """
const client = new OpenAI({ baseURL: process.env.UPSTREAM + "/v1", apiKey: "sk-test", maxRetries: 0 });
const answers = {};

async function ask(name, prompt, history = []) {
  const messages = [...history, { role: "user", content: prompt }];
  const r = await client.chat.completions.create({ model: "m", messages });
  const reply = r.choices[0].message.content;
  (answers[name] ||= []).push(reply);
  fs.mkdirSync("results", { recursive: true });
  fs.writeFileSync(`results/${FILE}-${name}.json`, JSON.stringify(answers[name]));
  return [...messages, { role: "assistant", content: reply }];
}

for (const i of [0, 1, 2]) {
  for (const side of ["a", "b"]) {
    test(`pair ${i} ${side}`, async () => {
      const history = await ask(`pair-${i}-${side}`, `Plan step one for project ${i}.`);
      await ask(`pair-${i}-${side}`, `And then? (${side})`, history);
    });
  }
}
test("same prompt three times", async () => {
  for (let n = 0; n < 3; n++) await ask("three", "Roll a die.");
  expect(new Set(answers.three).size).toBe(3);
});
"""


def _node_project(project: Path, runner: str) -> None:
    (project / "node_modules").symlink_to(NODE_MODULES)
    for f in ("alpha", "beta"):  # two files: runners spread files over workers
        if runner == "vitest":
            head = 'import fs from "node:fs";\nimport OpenAI from "openai";\nimport { expect, test } from "vitest";\n'
            (project / f"{f}.test.mjs").write_text(head + f'const FILE = "{f}";\n' + NODE_TESTS)
        else:
            head = 'const fs = require("node:fs");\nconst OpenAI = require("openai").default;\n'
            (project / f"{f}.test.cjs").write_text(head + f'const FILE = "{f}";\n' + NODE_TESTS)


def _results(project: Path) -> dict[str, list[str]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((project / "results").glob("*.json"))}


def _record_then_replay(installed, project: Path, record: list[str], replays: list[list[str]], **env: str) -> None:
    up = counting_upstream()
    try:
        status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", *record, UPSTREAM=up.url,
                                   command_fails=True, **env)  # fmt: skip
        assert status == 0, out + err
        recorded = _results(project)
        assert len(recorded) >= 7 and len({a[0] for a in recorded.values()}) == len(recorded), recorded
        assert not list((project / "recordings").glob("*.json")), "a call was recorded outside its test's folder"
        served = len(up.requests)
        for replay in replays:
            for _ in range(2):
                shutil.rmtree(project / "results")
                status, out, err = run_cli(installed, project, "run", "--strict", "--", *replay, UPSTREAM=up.url,
                                           command_fails=True, **env)  # fmt: skip
                assert status == 0, (replay, out + err)
                assert _results(project) == recorded, replay
        assert len(up.requests) == served
    finally:
        up.close()


def test_vitest_forks_and_threads(installed, project):
    _node_project(project, "vitest")
    setup = run_cli(installed, project, "node-setup")[1].strip()
    (project / "package.json").write_text('{"type": "module"}\n')
    (project / "vitest.config.mjs").write_text(f"export default {{ test: {{ setupFiles: [{json.dumps(setup)}] }} }};\n")
    vitest = ["node", "node_modules/vitest/vitest.mjs", "run"]
    _record_then_replay(
        installed, project, [*vitest, "--no-file-parallelism"],
        [[*vitest, "--pool=forks", "--maxWorkers=2"], [*vitest, "--pool=threads", "--maxWorkers=2"]],
    )  # fmt: skip
    folders = {p.parent.relative_to(project / "recordings").as_posix() for p in project.glob("recordings/**/*.json")}
    assert "alpha.test.mjs/pair 0 a" in folders and "beta.test.mjs/same prompt three times" in folders


def test_jest_workers(installed, project):
    _node_project(project, "jest")
    setup = run_cli(installed, project, "node-setup", "--jest")[1].strip()
    (project / "jest.config.cjs").write_text(
        f"module.exports = {{ testEnvironment: 'node', setupFilesAfterEnv: [{json.dumps(setup)}], "
        "testMatch: ['**/*.test.cjs'] };\n"
    )
    jest = ["node", "node_modules/jest/bin/jest.js"]
    _record_then_replay(installed, project, [*jest, "--runInBand"], [[*jest, "--maxWorkers=2"]])
    assert (project / "recordings" / "beta.test.cjs" / "same prompt three times").is_dir()


GO_TEST = """package {pkg}

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"example.com/agent/internal/llmvcr"
)

func ask(t *testing.T, name string, messages []map[string]string) []map[string]string {{
	body, _ := json.Marshal(map[string]any{{"model": "m", "messages": messages}})
	resp, err := http.Post("http://api.test.invalid/v1/chat/completions", "application/json", bytes.NewReader(body))
	if err != nil {{
		t.Fatal(err)
	}}
	defer resp.Body.Close()
	var out struct {{ Choices []struct {{ Message map[string]string }} }}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Choices) == 0 {{
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}}
	reply := out.Choices[0].Message["content"]
	f, _ := os.OpenFile(os.Getenv("RESULTS")+"/{pkg}-"+name+".txt", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	f.WriteString(reply + "\\n")
	f.Close()
	return append(messages, map[string]string{{"role": "assistant", "content": reply}})
}}

func TestPairA(t *testing.T) {{
	llmvcr.Scope(t)
	h := ask(t, "a", []map[string]string{{{{"role": "user", "content": "Plan step one."}}}})
	ask(t, "a", append(h, map[string]string{{"role": "user", "content": "And then? (a)"}}))
}}

func TestPairB(t *testing.T) {{
	llmvcr.Scope(t)
	h := ask(t, "b", []map[string]string{{{{"role": "user", "content": "Plan step one."}}}})
	ask(t, "b", append(h, map[string]string{{"role": "user", "content": "And then? (b)"}}))
}}
"""


def test_go_test_in_parallel_packages(installed, project):
    if shutil.which("go") is None:
        raise RuntimeError("this test needs Go (scripts/test installs golang-go)")
    helper = Path(run_cli(installed, project, "go-helper")[1].strip())
    (project / "go.mod").write_text("module example.com/agent\n\ngo 1.19\n")
    (project / "internal" / "llmvcr").mkdir(parents=True)
    shutil.copy(helper, project / "internal" / "llmvcr" / "llmvcr.go")
    for pkg in ("alpha", "beta", "gamma", "delta"):
        (project / pkg).mkdir()
        (project / pkg / f"{pkg}_test.go").write_text(GO_TEST.format(pkg=pkg))
    results = project / "results"
    up = counting_upstream()
    env = {"GOFLAGS": "-count=1", "GOPROXY": "off", "RESULTS": str(results)}
    try:
        results.mkdir()
        remote = f"map_remote=|http://api.test.invalid|{up.url}"  # Go never proxies loopback: a name instead
        status, out, err = run_cli(installed, project, "run", "--mode", "record", "--set", remote, "--", "go", "test",
                                   "-p", "1", "./...", command_fails=True, **env)  # fmt: skip
        assert status == 0, out + err
        recorded = {p.name: p.read_text() for p in results.glob("*.txt")}
        assert len(recorded) == 8 and len({v.split()[1] for v in recorded.values()}) == 8
        served = len(up.requests)
        for _ in range(2):
            shutil.rmtree(results)
            results.mkdir()
            status, out, err = run_cli(installed, project, "run", "--strict", "--", "go", "test", "-p", "4", "./...",
                                       command_fails=True, **env)  # fmt: skip
            assert status == 0, out + err
            assert {p.name: p.read_text() for p in results.glob("*.txt")} == recorded
        assert len(up.requests) == served
    finally:
        up.close()
    assert (project / "recordings" / "alpha" / "TestPairA").is_dir()
    assert not list((project / "recordings").glob("*.json"))
