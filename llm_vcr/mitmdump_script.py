"""The addon script of an installed llm-vcr (no checkout), used by `llm-vcr run` and `llm-vcr proxy`.

A checkout uses addon/llm_vcr.py instead; both register the same addons. By hand:
`mitmdump -s "$(python -c 'import llm_vcr.mitmdump_script as m; print(m.__file__)')"`.
"""

from llm_vcr.addons import make_addons

addons = make_addons()
