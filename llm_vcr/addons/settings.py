"""Options, the recordings folder's lifecycle, and proxy settings replay depends on."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from mitmproxy import ctx, exceptions
from mitmproxy.proxy import mode_specs

from llm_vcr import config
from llm_vcr.bodies import DEFAULT_MAX_BODY
from llm_vcr.matching import misses, normalize
from llm_vcr.matching.normalize import RuleError
from llm_vcr.store.files import DEFAULT_MAX_FILE
from llm_vcr.vcr import MODES, SECRET_POLICIES, Vcr

log = logging.getLogger("llm_vcr")

# How long a thread holding the GIL keeps it while the event loop waits (Python's default: 5 ms). Recording a
# large body parses and writes it in a worker thread; with the default each hand-off back to the event loop
# costs up to 5 ms for every other flow. Measured by `scripts/bench` (large bodies): other flows' p50 / p99
# while a 100 MB stream is recorded went from 11.8 / 61 ms to 5.4 / 17 ms. Idle threads cost nothing.
GIL_SWITCH_INTERVAL_S = 0.0005


class Settings:
    name = "vcr"

    def __init__(self, vcr: Vcr) -> None:
        self.vcr = vcr

    def load(self, loader) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        loader.add_option(
            "vcr_mode",
            str,
            "replay",
            "replay: answer LLM calls from recordings, never contact the upstream; "
            "record: pass through and store every call; auto: replay hits, record misses; "
            "live: pass through, store nothing.",
            choices=list(MODES),
        )
        loader.add_option("vcr_dir", str, "recordings", "Folder holding the recordings (read and written).")
        loader.add_option(
            "vcr_secrets",
            str,
            "redact",
            "Key-shaped strings (API keys, bearer tokens, JWTs…) in bodies, URLs and chunks: redact "
            "them with stable placeholders and warn, or refuse to write the recording.",
            choices=list(SECRET_POLICIES),
        )
        loader.add_option(
            "vcr_max_file_mb", int, DEFAULT_MAX_FILE // 2**20,
            "Recording files larger than this many MB are skipped unread (with a warning).",
        )  # fmt: skip
        loader.add_option(
            "vcr_max_body_mb", int, DEFAULT_MAX_BODY // 2**20,
            "Request and response bodies that decode to more than this many MB are not decompressed further: "
            "413 in replay, passed through unrecorded (with a warning) in the other modes.",
        )  # fmt: skip
        loader.add_option(
            "vcr_ignore", Sequence[str], [],
            "JSON paths left out of request keys (repeatable), e.g. metadata.request_id or "
            "messages[role=system].content; added to [tool.llm-vcr] ignore in pyproject.toml / llm-vcr.toml.",
        )  # fmt: skip
        loader.add_option(
            "vcr_normalize", Sequence[str], [],
            "Replacements on string values before keying (repeatable), as |regex|replacement, e.g. "
            "'|\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z?|<time>'; added to [tool.llm-vcr] normalize.",
        )  # fmt: skip
        loader.add_option(
            "vcr_port_file",
            Optional[str],  # noqa: UP045 (mitmproxy's option type spec)
            None,
            "Once listening, write the proxy's listen addresses as JSON to this file (for wrappers and tests).",
        )
        loader.add_option(
            "vcr_report",
            Optional[str],  # noqa: UP045
            None,
            "On shutdown, write a JSON summary (hits, misses and their keys, recorded) to this file.",
        )

    def configure(self, updated: set[str]) -> None:
        if "vcr_mode" in updated:
            self.vcr.mode = ctx.options.vcr_mode
        if "vcr_secrets" in updated:
            self.vcr.secrets = ctx.options.vcr_secrets
        for name in ("vcr_max_file_mb", "vcr_max_body_mb"):
            if name in updated and getattr(ctx.options, name) <= 0:
                raise exceptions.OptionsError(f"{name} must be a positive number of MB")
        self.vcr.max_body = ctx.options.vcr_max_body_mb * 2**20
        self.vcr.max_file = ctx.options.vcr_max_file_mb * 2**20
        if "mode" in updated and "mode" in ctx.options.keys():
            self.vcr.llm_upstreams.update(reverse_targets(ctx.options.mode))
        rules_changed = False
        if updated & {"vcr_ignore", "vcr_normalize", "vcr_dir"}:
            try:
                rules = config.rules(Path.cwd(), ctx.options.vcr_ignore, ctx.options.vcr_normalize)
            except RuleError as e:
                raise exceptions.OptionsError(f"llm-vcr matching rules: {e}") from None  # the message is enough
            rules_changed = rules != normalize.active()
            normalize.set_active(rules)
            if rules.sources or rules.ignore or rules.replace:
                log.info(f"llm-vcr: matching rules from {', '.join(rules.sources) or 'options'}: "
                         f"{len(rules.ignore)} ignored paths, {len(rules.replace)} replacements")  # fmt: skip
        if "vcr_dir" in updated or "vcr_max_file_mb" in updated or rules_changed:
            self.vcr.open(Path(ctx.options.vcr_dir).expanduser(), lazy=True)
        elif "vcr_mode" in updated:
            log.info(f"llm-vcr: mode {self.vcr.mode}")
        # The default eager strategy dials the upstream at CONNECT / client connect, before
        # replay can answer: offline replay needs lazy. Recording works the same with it.
        if "connection_strategy" in ctx.options.keys() and ctx.options.connection_strategy != "lazy":
            ctx.options.update(connection_strategy="lazy")

    def running(self) -> None:
        path = ctx.options.vcr_port_file
        if path:
            addrs = ctx.master.addons.get("proxyserver").listen_addrs()
            tmp = f"{path}.tmp"
            Path(tmp).write_text(json.dumps([list(a[:2]) for a in addrs]))
            os.replace(tmp, path)  # readers never see a half-written file

    def done(self) -> None:
        self.vcr.close()  # keeps open streams as partial, waits for pending writes: nothing lost or uncounted
        s = self.vcr.stats
        log.info(f"llm-vcr: {s.hits} replayed, {s.misses} missed, {s.recorded} recorded, {s.partial} partial")
        if s.write_failed:
            log.error(f"llm-vcr: {s.write_failed} recordings could NOT be written (see the errors above): "
                      f"{', '.join(s.write_failed_keys[:10])}")  # fmt: skip
        if path := ctx.options.vcr_report:
            write_report(self.vcr, path)
        if s.misses:
            log.warning(f"llm-vcr: {s.misses} requests had no recording: {misses.summary(s.misses, s.miss_keys)}")


def reverse_targets(modes: Sequence[str]) -> set[tuple[str, int]]:
    """(host, port) of every reverse-proxy target: in replay mode, nothing is sent there."""
    out = set()
    for spec in modes:
        try:
            mode = mode_specs.ProxyMode.parse(spec)
        except ValueError:
            continue
        if isinstance(mode, mode_specs.ReverseMode):
            out.add((mode.address[0].lower(), mode.address[1]))
    return out


def write_report(vcr: Vcr, path: str) -> dict[str, object]:
    report = vcr.report()
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)  # CI reading it never sees half a file
    return report
