"""Per-test recordings: a generated pytest project recorded once serially, then replayed serially and
under pytest-xdist, five times each, with identical results; every test in its own folder. Scopes from
headers, proxy credentials and client processes (children included); hostile scope names; misses that
fail their own test even when the client swallows the 404; --strict.

The upstream is scripted (tests/e2e/harness.py ScriptedUpstream): each answer carries a global
counter, so two tests that send the same first request get different recorded continuations, and a
replay that served one test's answer to another would show."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ..e2e.harness import ScriptedUpstream, json_response
from .conftest import run_cli


def counting_upstream() -> ScriptedUpstream:
    served = [0]

    def answer(body: bytes) -> list[bytes]:
        served[0] += 1
        prompt = json.loads(body)["messages"][-1]["content"]
        msg = {"role": "assistant", "content": f"answer #{served[0]} to {prompt}"}
        doc = {"id": f"c{served[0]}", "object": "chat.completion", "model": "m",
               "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}  # fmt: skip
        return json_response(200, json.dumps(doc).encode())

    return ScriptedUpstream({"/v1/chat/completions": answer}, delay=0)


CONFTEST = '''
import json, os, re
from pathlib import Path

import openai
import pytest


# One client for the session: its keep-alive connections carry many tests' calls, one test at a time.
client = openai.OpenAI(base_url=os.environ["UPSTREAM"] + "/v1", api_key="sk-test", max_retries=0)


@pytest.fixture
def ask(request):
    """Send prompts in order; each answer is kept so the outer test can compare runs."""
    history, answers = [], []

    def _ask(prompt, continue_conversation=False):
        messages = (history if continue_conversation else []) + [{"role": "user", "content": prompt}]
        reply = client.chat.completions.create(model="m", messages=messages).choices[0].message.content
        history[:] = messages + [{"role": "assistant", "content": reply}]
        answers.append(reply)
        return reply

    yield _ask
    out = Path("results") / (re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.nodeid) + ".json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(answers))
'''


def generated_tests() -> str:
    lines = ["import pytest", ""]
    for i in range(8):  # 8 pairs: the same first request, different recorded continuations
        for side in ("a", "b"):
            lines += [f"def test_pair_{i}_{side}(ask):",
                      f"    first = ask('Plan step one for project {i}.')",
                      "    assert first.startswith('answer #')",
                      f"    ask('And then? ({side})', continue_conversation=True)", ""]  # fmt: skip
    lines += ["def test_same_prompt_three_times(ask):",
              "    answers = [ask('Roll a die.') for _ in range(3)]",
              "    assert len(set(answers)) == 3", ""]  # fmt: skip
    for i in range(5):
        lines += [f"def test_single_{i}(ask):", f"    ask('Weather {i} in Paris?')", ""]
    lines += ["@pytest.mark.parametrize('city', ['Paris', 'Lyon'])",
              "def test_cities(ask, city):", "    ask(f'Weather in {city}?')", ""]  # fmt: skip
    return "\n".join(lines)


def results(project: Path) -> dict[str, list[str]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((project / "results").glob("*.json"))}


def pytest_run(installed, project, *args: str, upstream, pytest_args: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """`llm-vcr ARGS -- python -m pytest -q PYTEST_ARGS` in the project (python: the environment where
    llm-vcr, and so its pytest plugin, is installed, as a user's project has it)."""
    import shutil

    shutil.rmtree(project / "results", ignore_errors=True)
    return run_cli(installed, project, *args, "--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   *pytest_args, command_fails=True, UPSTREAM=upstream.url)  # fmt: skip


@pytest.fixture
def pytest_project(project: Path) -> Path:
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_agents.py").write_text(generated_tests())
    (project / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return project


REPLAYS = """\
set -e
for i in 1 2 3 4 5; do
  for mode in serial xdist; do
    if [ $mode = xdist ]; then extra="-n 4"; else extra=""; fi
    rm -rf results
    "$PYTHON" -m pytest -q -p no:cacheprovider $extra > "out-$mode-$i.txt"
    mv results "results-$mode-$i"
  done
done
"""


def test_pytest_replays_identically_serially_and_under_xdist(installed, pytest_project):
    project = pytest_project
    up = counting_upstream()
    try:
        status, out, err = pytest_run(installed, project, "run", "--mode", "record", upstream=up)
        assert status == 0 and "24 passed" in out, out + err
        recorded = results(project)
        assert len(recorded) == 24 and len({a[0] for a in recorded.values()}) == 24  # every first answer differs
        served = len(up.requests)
        for name in recorded:
            test = name.removeprefix("test_agents.py__").removesuffix(".json")
            test = test.replace("_Paris_", "[Paris]").replace("_Lyon_", "[Lyon]")
            assert list((project / "recordings" / "test_agents.py" / test).glob("chat_completions-*.json")), test
        assert not list((project / "recordings").glob("*.json"))  # every test in its own folder, none outside
        three = sorted((project / "recordings/test_agents.py/test_same_prompt_three_times").glob("*.json"))
        assert [p.name[-8:] for p in three] == ["000.json", "001.json", "002.json"]
        key = three[0].name.split("-")[1]  # `llm-vcr show KEY` finds a test's recordings in its folder
        status, out, _ = run_cli(installed, project, "show", key)
        assert status == 0 and f"test_same_prompt_three_times/{three[0].name}" in out, out
        # Five serial and five xdist runs (-n 4), each a new pytest process, through one replay proxy.
        (project / "replays.sh").write_text(REPLAYS)
        status, out, err = run_cli(installed, project, "run", "--strict", "--", "sh", "replays.sh",
                                   PYTHON=sys.executable, UPSTREAM=up.url)  # fmt: skip
        assert status == 0, err
        for run in range(1, 6):
            for mode in ("serial", "xdist"):
                assert "24 passed" in (project / f"out-{mode}-{run}.txt").read_text(), (mode, run)
                got = {p.name: json.loads(p.read_text()) for p in (project / f"results-{mode}-{run}").glob("*.json")}
                assert got == recorded, (mode, run)
        assert f"{10 * served} replayed, 0 missed, 0 recorded" in err  # 10 runs of every recorded call, no more
        assert len(up.requests) == served  # replay never reached the upstream
    finally:
        up.close()


def test_a_miss_fails_its_own_test_even_when_the_client_swallows_it(installed, pytest_project):
    project = pytest_project
    (project / "test_agents.py").write_text(
        textwrap.dedent("""
        import openai

        def test_recorded(ask):
            ask("Known question.")

        def test_swallows_the_404(ask):
            try:
                ask("A question nobody recorded.")
            except openai.NotFoundError:
                pass  # the application "handles" it: the test would pass without llm-vcr's plugin
    """)
    )
    up = counting_upstream()
    try:
        # Record only the first test, then replay both.
        status, out, err = pytest_run(installed, project, "run", "--mode", "record", upstream=up)
        assert status == 0, out + err
        for path in (project / "recordings" / "test_agents.py" / "test_swallows_the_404").glob("*"):
            path.unlink()
        status, out, err = pytest_run(installed, project, "run", "--strict", upstream=up)
    finally:
        up.close()
    assert status == 1 and "1 failed, 1 passed" in out, out
    assert "FAILED test_agents.py::test_swallows_the_404" in out
    assert "llm-vcr: 1 LLM calls of this test missed (scope test_agents.py::test_swallows_the_404)" in out
    assert "no recording matched POST chat/completions" in out


CURL = shlex.join(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}\\n", "-H", "content-type: application/json"])
BODY = '{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'


def test_header_credentials_and_hostile_names_stay_inside_the_folder(installed, project):
    names = ["tests/../../../escape::test_x", "/abs/path::t", "tëst::ünïcode 🎉", "a\\b::c"]
    lines = [f"{CURL} -x \"$HTTP_PROXY\" -H {shlex.quote(f'x-llm-vcr-scope: {n}')} -d '{BODY}' $UP/v1/chat/completions"
             for n in names]  # fmt: skip
    creds = "http://tests%2Fc.py%3A%3Atest_creds@${HTTP_PROXY#http://}"
    lines.append(f"{CURL} -x \"{creds}\" -d '{BODY}' $UP/v1/chat/completions")
    (project / "calls.sh").write_text("\n".join(lines) + "\n")
    up = counting_upstream()
    try:
        status, out, err = run_cli(installed, project, "run", "--mode", "record", "--set", "vcr_report=r.json", "--",
                                   "sh", "calls.sh", UP=up.url)  # fmt: skip
        assert status == 0 and out.split() == ["200"] * 5, out + err
        status, out, err = run_cli(installed, project, "run", "--set", "vcr_report=r2.json", "--", "sh", "calls.sh",
                                   UP=up.url)  # fmt: skip
    finally:
        up.close()
    report = json.loads((project / "r2.json").read_text())
    assert status == 0 and report["hits"] == 5 and report["misses"] == 0, err
    assert set(report["scopes"]) == {*names, "tests/c.py::test_creds"}
    root = (project / "recordings").resolve()
    written = [p.resolve() for p in root.rglob("*.json")]
    assert len(written) == 5 and all(p.is_relative_to(root) for p in written)
    assert not list(project.parent.glob("escape*")) and not Path("/abs/path").exists()
    assert (root / "tëst" / "ünïcode 🎉").is_dir() and (root / "tests" / "c.py" / "test_creds").is_dir()
    assert not list(root.glob("*.json"))  # nothing unscoped


def test_a_bound_process_and_its_children(installed, project):
    """The control API binds a process; connections of its children belong to the same scope."""
    bind = 'curl -sS --noproxy "*" -X POST "$LLM_VCR_PROXY/__llm-vcr/scope" -d "{\\"scope\\": \\"by-process\\", '
    bind += '\\"pid\\": $$}" >/dev/null'
    child = "sh -c " + shlex.quote(f"{CURL} -x \"$HTTP_PROXY\" -d '{BODY}' $UP/v1/chat/completions")
    script = f"set -e\n{bind}\n{child}\n"  # the binding is the shell's; curl runs in a grandchild
    (project / "bound.sh").write_text(script)
    up = counting_upstream()
    try:
        status, out, err = run_cli(installed, project, "run", "--mode", "record", "--", "sh", "bound.sh", UP=up.url)
    finally:
        up.close()
    assert status == 0 and out.strip() == "200", out + err
    assert list((project / "recordings" / "by-process").glob("chat_completions-*.json"))
    assert (project / "recordings" / "by-process" / ".llm-vcr-scope").read_text() == "by-process\n"


def test_the_control_api_refuses_bad_requests(installed, project):
    (project / "bad.sh").write_text(
        "curl -sS --noproxy '*' -X POST \"$LLM_VCR_PROXY/__llm-vcr/scope\" -d '{\"pid\": 1}'; echo\n"
        'curl -sS --noproxy \'*\' -X POST "$LLM_VCR_PROXY/__llm-vcr/scope" -d \'{"scope": "x", "mode": "nope"}\'\n'
    )
    status, out, err = run_cli(installed, project, "run", "--allow-empty", "--", "sh", "bad.sh")
    assert status == 0 and "give the scope" in out and "mode must be one of" in out, out + err


def test_the_helpers_are_found(installed, project):
    for args, name in ((["node-setup"], "vitest-setup.mjs"), (["node-setup", "--jest"], "jest-setup.cjs"),
                       (["go-helper"], "llmvcr.go")):  # fmt: skip
        status, out, _ = run_cli(installed, project, *args)
        assert status == 0 and out.strip().endswith(name) and Path(out.strip()).is_file()
    find = "import importlib.util as u; print(u.find_spec('llm_vcr.pytest_plugin').origin)"
    done = subprocess.run([str(installed.bin / "python"), "-c", find], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().endswith("pytest_plugin.py")  # the plugin ships in the wheel
