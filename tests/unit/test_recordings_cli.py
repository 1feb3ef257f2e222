import base64
import io
import json
import shutil

from mitmproxy import http
from mitmproxy import io as mio
from mitmproxy.test import tflow, tutils

from llm_vcr.cli import main
from llm_vcr.cli.recordings import cmd_import, cmd_ls, cmd_prune, cmd_show, cmd_verify
from llm_vcr.store import read_file

from ..conftest import CORPUS, SEED

SSE = (
    b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}'
    b"\n\ndata: [DONE]\n\n"
)
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "stream": True}


def run(fn, *args) -> tuple[int, str]:
    out = io.StringIO()
    return fn(*args, out=out), out.getvalue()


def test_ls_lists_the_corpus():
    code, out = run(cmd_ls, CORPUS)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["FILE", "KEY", "ENDPOINT", "MODEL", "STREAM", "CHUNKS", "SIZE", "AGE"]
    assert len(lines) == 1 + 137 + 1 and lines[-1] == f"137 files in {CORPUS}, 1 unreadable"  # 136 + index.json
    seed_row = next(ln for ln in lines if ln.startswith("ogx-2025-09/responses/54eba2025b93.json"))
    key = read_file(CORPUS / "ogx-2025-09/responses/54eba2025b93.json").key
    assert seed_row.split()[1:6] == [key, "/v1/chat/completions", "meta-llama/Llama-3.2-1B-Instruct", "yes", "12"]


def test_show_by_file_and_by_key(capsys):
    code, out = run(cmd_show, str(SEED), SEED.parent)
    assert code == 0 and "user: What pods are in the namespace openshift-lightspeed?" in out
    assert "tools: get_object_namespace_list" in out and "tool call: get_object_namespace_list" in out
    key = out.split("key ")[1].split(")")[0]
    assert run(cmd_show, key, SEED.parent)[1] == out
    assert run(cmd_show, "0123456789abcdef", SEED.parent)[0] == 1
    assert "no recording" in capsys.readouterr().err
    # The request's own tool calls (an assistant turn with no text), and a file named as `ls` prints it.
    assert '  tool call: get_object_namespace_list({"kind": "pod"' in out
    assert run(cmd_show, SEED.name, SEED.parent)[1] == out


def test_verify_finds_each_kind_of_problem(tmp_path):
    shutil.copy(SEED, tmp_path / "good.json")
    doc = json.loads(SEED.read_text())
    doc["response"]["body"][0]["__type__"] = "somebody.Else"
    (tmp_path / "unknown-type.json").write_text(json.dumps(doc))
    doc["response"]["body"][1]["__data__"] = "not json"
    (tmp_path / "bad-chunk.json").write_text(json.dumps(doc))
    doc = json.loads(SEED.read_text())
    doc["request"]["body"]["messages"][1]["content"][0]["text"] = "key sk-proj-CANARYabcdefghijklmnopqrstuvwxyz01"
    (tmp_path / "secret.json").write_text(json.dumps(doc))
    (tmp_path / "corrupt.json").write_text("{")
    code, out = run(cmd_verify, tmp_path)
    assert code == 1 and out.splitlines()[-1] == "5 files checked, 4 with problems"
    assert "unknown-type.json: item 0 has an unknown envelope type 'somebody.Else'" in out
    assert "bad-chunk.json: chunk 1 is not a JSON object envelope" in out
    assert "holds key-shaped strings: openai-key" in out and "corrupt.json: not valid JSON" in out
    assert "good.json" not in out
    assert run(cmd_verify, SEED.parent)[0] == 0


def test_prune_is_a_dry_run_unless_applied_and_stays_inside_the_folder(tmp_path):
    for name in ("used.json", "unused.json"):
        shutil.copy(SEED, tmp_path / name)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dir": str(tmp_path), "unused": ["unused.json", "../../etc/passwd.json"]}))
    code, out = run(cmd_prune, report, None, False)
    assert code == 0 and "would delete unused.json" in out and "refusing ../../etc/passwd.json" in out
    assert (tmp_path / "unused.json").exists()
    run(cmd_prune, report, None, True)
    assert not (tmp_path / "unused.json").exists() and (tmp_path / "used.json").exists()
    (tmp_path / "bad.json").write_text("[]")
    assert run(cmd_prune, tmp_path / "bad.json", None, False)[0] == 1


def test_import_har_and_flow_dump(tmp_path):
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://api.openai.com/v1/chat/completions",
                        "postData": {"text": json.dumps(CHAT)},
                    },
                    "response": {
                        "status": 200,
                        "headers": [{"name": "content-type", "value": "text/event-stream"}],
                        "content": {"text": base64.b64encode(SSE).decode(), "encoding": "base64"},
                    },
                },
                {
                    "request": {"method": "GET", "url": "https://example.com/"},
                    "response": {"status": 200, "headers": [], "content": {"text": "<html>"}},
                },
            ]
        }
    }
    (tmp_path / "t.har").write_text(json.dumps(har))
    code, out = run(cmd_import, tmp_path / "t.har", tmp_path / "from-har")
    assert code == 0 and out.endswith(
        "1 recordings written to " + str(tmp_path / "from-har") + ", 1 exchanges skipped (not LLM calls or unusable)\n"
    )
    (path,) = (tmp_path / "from-har").glob("chat_completions-*.json")
    assert json.loads(path.read_text())["response"]["body"][0]["__data__"]["choices"][0]["delta"]["content"] == "Hi"

    f = tflow.tflow(
        req=tutils.treq(method=b"POST", path=b"/v1/chat/completions", content=json.dumps(CHAT).encode()),
        resp=tutils.tresp(content=SSE, headers=http.Headers(content_type="text/event-stream")),
    )
    with open(tmp_path / "t.flows", "wb") as fh:
        mio.FlowWriter(fh).add(f)
    assert run(cmd_import, tmp_path / "t.flows", tmp_path / "from-flows")[0] == 0
    assert len(list((tmp_path / "from-flows").glob("chat_completions-*.json"))) == 1


def test_malformed_import_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01garbage")
    assert run(cmd_import, tmp_path / "junk.bin", tmp_path / "out")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("llm-vcr import: cannot read") and "Traceback" not in err


def test_cli_entry_point_dispatches(capsys):
    try:
        main(["verify", "--dir", str(SEED.parent)])
    except SystemExit as e:
        assert e.code == 0
    assert "files checked, 0 with problems" in capsys.readouterr().out


def test_show_finds_a_key_among_per_test_recordings(tmp_path):
    from llm_vcr.scopes import mark, scope_path

    scope = tmp_path / scope_path("tests/test_a.py::test_x")
    scope.mkdir(parents=True)
    mark(scope, "tests/test_a.py::test_x")
    shutil.copy(SEED, scope / SEED.name)
    key = read_file(SEED).key
    code, out = run(cmd_show, key, tmp_path)
    assert code == 0 and "user: What pods are in the namespace openshift-lightspeed?" in out
