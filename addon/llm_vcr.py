"""llm-vcr entry script: `mitmdump -s addon/llm_vcr.py [--set vcr_mode=record] [--set vcr_dir=DIR]`.

Thin on purpose: it puts the checkout on sys.path (no install needed, any working
directory) and registers the addons from the `llm_vcr` package. On a hot reload of this
file the package is re-imported too, so edits to it take effect.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
# First, always: mitmproxy puts this script's folder on sys.path, and this file's name
# would otherwise shadow the `llm_vcr` package.
if sys.path[:1] != [_ROOT]:
    sys.path[:] = [_ROOT] + [p for p in sys.path if p != _ROOT]
for _name in [m for m in sys.modules if m == "llm_vcr" or m.startswith("llm_vcr.")]:
    del sys.modules[_name]

from llm_vcr.addons import make_addons  # noqa: E402

addons = make_addons()
