"""What mitmproxy itself prints goes through the same redaction as recordings.

mitmdump's flow lines show URLs (Gemini's `?key=AIza…`, keys in paths) and its log lines show hosts
and errors. This addon wraps the flow printer's output stream and filters every log handler, so no
key-shaped string reaches a terminal or a CI log through the proxy.
"""

from __future__ import annotations

import logging
from typing import IO

from mitmproxy import ctx

from llm_vcr import redaction


class _RedactingStream:
    """A text stream that redacts what it writes (the dumper prints whole lines)."""

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        return self._inner.write(redaction.redact_log(text))

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


class _RedactRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redaction.redact_log(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class OutputRedaction:
    name = "vcr_output_redaction"

    def running(self) -> None:
        dumper = ctx.master.addons.get("dumper")
        if dumper is not None and not isinstance(dumper.outfp, _RedactingStream):
            dumper.outfp = _RedactingStream(dumper.outfp)
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, _RedactRecords) for f in handler.filters):
                handler.addFilter(_RedactRecords())
