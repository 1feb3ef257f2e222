"""OGX's google-genai recordings (SDK objects, snake_case) replayed through the google-genai SDK itself:
the 151 files of tests/fixtures/ogx-genai dropped into a project's recordings/ as they are, every call
made again by the SDK against Vertex AI's real host through `llm-vcr run` (offline: nothing may leave), and
each answer, as the SDK parses it, equal to what the file holds."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .conftest import run_cli

APPS = Path(__file__).parent / "apps"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "ogx-genai"


def _recorded_parts(doc: dict) -> list:
    body = doc["response"]["body"]
    out = []
    for chunk in body if isinstance(body, list) else [body]:
        for part in chunk["candidates"][0]["content"].get("parts") or []:
            if "text" in part:
                out.append(["text", part["text"]])
            elif "function_call" in part:
                out.append(["call", part["function_call"]["name"], part["function_call"]["args"]])
    return out


def test_ogx_google_genai_recordings_replay_through_the_sdk(installed, project):
    shutil.copytree(FIXTURES, project / "recordings")
    shutil.copy(APPS / "genai_calls.py", project / "app.py")
    files = sorted((project / "recordings").rglob("*.json"))
    docs = [json.loads(p.read_text()) for p in files]
    calls = [{**{k: d["request"]["body"].get(k) for k in ("model", "contents", "config")},
              "stream": d["request"]["url"].endswith("_stream")} for d in docs]  # fmt: skip
    (project / "calls.json").write_text(json.dumps(calls))
    run = ["run", "--set", "vcr_offline=true", "--set", "vcr_report=r.json", "--", sys.executable, "app.py"]
    status, out, err = run_cli(installed, project, *run, GOOGLE_API_KEY="AIzaSyCANARY0123456789abcdefghijklmnopq")
    assert status == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == len(docs)
    # Recordings of one same request (OGX recorded some calls several times, with different answers) are each
    # served once, in the store's order: compare them as a group.
    expected: dict[str, list] = {}
    answers: dict[str, list] = {}
    for call, doc, answer in zip(calls, docs, got, strict=True):
        same = json.dumps(call, sort_keys=True)
        expected.setdefault(same, []).append(_recorded_parts(doc))
        answers.setdefault(same, []).append(answer)
    assert all(sorted(map(json.dumps, answers[k])) == sorted(map(json.dumps, v)) for k, v in expected.items())
    assert sum(len(v) > 1 for v in expected.values()) > 0  # the grouping is exercised
    report = json.loads((project / "r.json").read_text())
    assert report["hits"] == len(files) == 151 and report["misses"] == 0 and report["blocked"] == 0
