"""llm-vcr: record and replay OpenAI-compatible LLM traffic through mitmproxy.

The modules at this level import nothing from mitmproxy (SSE parsing, envelopes, request
keys, the recordings store); `llm_vcr.addons` holds the thin mitmproxy glue.
"""

__version__ = "0.1.0"
