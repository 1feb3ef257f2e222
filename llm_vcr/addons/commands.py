"""Commands for mitmweb's and the console's command bar (and `ctx.master.commands.call`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mitmproxy import command, ctx, flow, http

from llm_vcr.addons.settings import write_report
from llm_vcr.apis import classify
from llm_vcr.capture import recording_from_exchange
from llm_vcr.vcr import MODES, Vcr

log = logging.getLogger("llm_vcr")


class Commands:
    name = "vcr_commands"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr

    @command.command("vcr.status")
    def status(self) -> str:
        """Mode, folder and counts of this run."""
        s, store = self.vcr.stats, self.vcr.store
        count = f"{len(store)} recordings" if store.ready else "recordings being indexed"
        return (f"llm-vcr: mode {self.vcr.mode}, {count} in {store.root}; "
                f"{s.hits} replayed, {s.misses} missed, {s.recorded} recorded, {s.partial} partial")  # fmt: skip

    @command.command("vcr.mode")
    def mode(self, mode: str) -> str:
        """Switch mode: replay, record, auto or live."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        ctx.options.update(vcr_mode=mode)
        return self.status()

    @command.command("vcr.reload")
    def reload(self) -> str:
        """Read the recordings folder again (after editing or adding files)."""
        self.vcr.open(self.vcr.store.root, lazy=True)
        return self.status()

    @command.command("vcr.save")
    def save(self, flows: Sequence[flow.Flow]) -> str:
        """Save the given LLM flows (e.g. @marked or @focus) as recordings."""
        saved = skipped = 0
        for f in flows:
            resource = classify(f.request.method, f.request.path) if isinstance(f, http.HTTPFlow) else None
            if resource is None or f.response is None or f.response.raw_content is None:
                skipped += 1
                continue
            method, url, req = f.request.method, f.request.pretty_url, f.request.get_content(strict=False)
            status, headers = f.response.status_code, dict(f.response.headers.items())
            body = f.response.get_content(strict=False) or b""

            def build(method=method, url=url, req=req, status=status, headers=headers, body=body, resource=resource):
                return recording_from_exchange(method=method, url=url, request=req, resource=resource, status=status,
                                               headers=headers, body=body)  # fmt: skip

            self.vcr.persist(build, self._saved)
            saved += 1
        return f"llm-vcr: saving {saved} flows to {self.vcr.store.root}" + (f" ({skipped} not LLM flows with a body)"
                                                                          if skipped else "")  # fmt: skip

    def _saved(self, path: Path, rec) -> None:
        self.vcr.store.add(path, rec)
        self.vcr.new.append(path)
        log.info(f"llm-vcr: saved {path}")

    @command.command("vcr.report")
    def report(self, path: str) -> str:
        """Write the replay report (hits, misses, new and unused recordings, tokens saved) as JSON."""
        r = write_report(self.vcr, path)
        return (
            f"llm-vcr: report written to {path}: {r['hits']} replayed, {r['misses']} missed, {len(r['unused'])} unused"
        )
