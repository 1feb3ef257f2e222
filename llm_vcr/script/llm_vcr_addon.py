"""The llm-vcr addon script of an installed copy: `mitmdump -s "$(llm-vcr addon)"`.

`llm-vcr run` and `llm-vcr proxy` use it too; a checkout also has `addon/llm_vcr.py` (the same
addons, plus hot reload of the package). It lives alone in its folder because mitmproxy puts a
script's folder on `sys.path`. If the mitmdump running it belongs to another environment (a
pipx-installed mitmproxy, say), the installed package is found next to this file.
"""

import sys
from pathlib import Path

try:
    import llm_vcr  # noqa: F401
except ImportError:  # after mitmproxy's own packages: its pinned dependencies win
    sys.path.append(str(Path(__file__).resolve().parent.parent.parent))

from llm_vcr.addons import make_addons

addons = make_addons()
