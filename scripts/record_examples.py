"""Re-record the example recordings bundled in recordings/ from the real test engine.

    .venv/bin/python scripts/record_examples.py

The README's quick-start curl request is one of them, so keep QUICKSTART_BODY in sync
with the README (tests/e2e/test_readme.py checks that the README's command replays).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import Engine, Mitmdump  # noqa: E402
from tests.e2e.scenarios import WEATHER_TOOL, client  # noqa: E402

QUICKSTART_BODY = {"model": "smollm2", "messages": [{"role": "user", "content": "Say hello."}], "stream": True}


def main() -> None:
    out = ROOT / "recordings"
    for old in out.glob("*-*-[0-9][0-9][0-9].json"):  # ours; the seed keeps its original name
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "engine")
        try:
            with Mitmdump(Path(tmp), out, "record") as proxy:
                url = f"{engine.url}/v1/chat/completions"
                subprocess.run(
                    [
                        "curl",
                        "-sS",
                        "-N",
                        "-x",
                        proxy.url,
                        url,
                        "-H",
                        "content-type: application/json",
                        "-d",
                        json.dumps(QUICKSTART_BODY),
                    ],
                    check=True,
                    capture_output=True,
                )
                c = client(f"{engine.url}/v1", proxy=proxy.url)
                c.chat.completions.create(model="smollm2", messages=QUICKSTART_BODY["messages"], max_tokens=32)
                list(
                    c.chat.completions.create(
                        model="smollm2",
                        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
                        tools=[WEATHER_TOOL],
                        tool_choice={"type": "function", "function": {"name": "get_weather"}},
                        stream=True,
                        max_tokens=48,
                    )
                )
                c.embeddings.create(model="smollm2-embed", input="hello world", encoding_format="float")
                c.models.list()
        finally:
            engine.stop()
    for p in sorted(out.glob("*.json")):
        print(p.relative_to(ROOT))


if __name__ == "__main__":
    main()
