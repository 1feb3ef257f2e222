"""`llm-vcr ls | show | verify | prune | import`: see, check and prune a recordings folder.

Everything read here may be malformed: each problem is one clear line naming the file, never
a traceback. Long operations show progress on a terminal.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from llm_vcr import redaction
from llm_vcr.apis import BY_NAME, classify, envelopes
from llm_vcr.assemble import assemble, render
from llm_vcr.capture import recording_from_exchange
from llm_vcr.matching import misses
from llm_vcr.matching.keys import KEY_LENGTH, canonical
from llm_vcr.store import RecordingStore, files, missed, read_file
from llm_vcr.store.files import shown
from llm_vcr.store.recording import Recording, RecordingError

T = TypeVar("T")
SDK_PREFIXES = ("openai.types.", "anthropic.types.", "ollama._types.", "google.genai.types.", "bedrock.", "llm_vcr.")


def progress[T](items: list[T], label: str) -> Iterator[T]:
    """Yield items, drawing a progress bar on stderr when it is a terminal and the job is long."""
    show = sys.stderr.isatty() and len(items) > 200
    for i, item in enumerate(items, 1):
        if show and (i % 50 == 0 or i == len(items)):
            done = int(30 * i / len(items))
            sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (30 - done)}] {i}/{len(items)}")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write("\n")


def recording_files(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The recording files of a folder, and what was skipped (FIFOs, loops, links out, huge files) with why."""
    found = files.scan(folder, own_scopes=True)  # every test's recordings too
    return sorted(Path(p) for _, p, _ in found.files), found.skipped


def _missing(folder: Path, command: str) -> int | None:
    if folder.is_dir():
        return None
    print(f"llm-vcr {command}: {shown(folder)} is not a folder (give the recordings folder with --dir)",
          file=sys.stderr)  # fmt: skip
    return 2


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _table(rows: list[list[str]], out) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip(), file=out)


def cmd_ls(folder: Path, out=None) -> int:
    out = out or sys.stdout
    if (bad := _missing(folder, "ls")) is not None:
        return bad
    paths, skipped = recording_files(folder)
    rows = [["FILE", "KEY", "ENDPOINT", "MODEL", "STREAM", "CHUNKS", "SIZE", "AGE"]]
    errors = 0
    now = time.time()
    for path in progress(paths, "reading"):
        rel = shown(path.relative_to(folder))
        try:
            st = path.stat()
            rec = read_file(path)
        except (RecordingError, OSError) as e:
            errors += 1
            rows.append([rel, "", f"unreadable: {e}", "", "", "", "", ""])
            continue
        chunks = str(len(rec.chunks)) if rec.is_streaming else "-"
        stream = "partial" if rec.partial else ("yes" if rec.is_streaming else "no")
        rows.append([rel, rec.key or "-", shown(rec.endpoint), shown(rec.model or "-"), stream, chunks,
                     f"{st.st_size}", _age(now - st.st_mtime)])  # fmt: skip
    for path, reason in skipped:
        rows.append([shown(path.relative_to(folder)), "", f"skipped: {reason}", "", "", "", "", ""])
    _table(rows, out)
    tail = [f"{errors} unreadable"] if errors else []
    tail += [f"{len(skipped)} skipped"] if skipped else []
    print(f"{len(paths)} files in {shown(folder)}" + (f", {', '.join(tail)}" if tail else ""), file=out)
    return 0


def _find(target: str, folder: Path) -> list[tuple[Path, Recording]]:
    path = Path(target)
    if not (path.exists() or path.is_symlink()) and (folder / target).exists():
        path = folder / target  # a name as `ls` prints it: relative to the recordings folder
    if path.exists() or path.is_symlink() or target.endswith(".json"):
        try:
            return [(path, read_file(path))]
        except RecordingError as e:
            raise RecordingError(f"{shown(path)}: {e}") from e
    if len(target) == KEY_LENGTH and all(c in "0123456789abcdef" for c in target):
        store = RecordingStore(folder)
        store.load()
        found = store.entries().get(target, [])
        if found:
            return found
        # Per-test recordings live in scope folders, which a folder's own index leaves out.
        scoped = [RecordingStore(p.parent) for p in sorted(folder.rglob(files.SCOPE_MARKER))]
        for inner in scoped:
            inner.load()
            if found := inner.entries().get(target, []):
                return found
        for where in [store, *scoped]:
            if (request := missed.load(where.root, target)) is not None:
                raise _Missed(where, request)
        partial = store.partial_of(target)
        hint = f" (only partial ones: {', '.join(shown(p) for p in partial)})" if partial else ""
        raise RecordingError(f"no recording in {shown(folder)} has the request key {target}{hint}, and no "
                             "request with that key missed here lately")  # fmt: skip
    raise RecordingError(f"{shown(target)} is neither a file nor a 16-hex request key")


def _conversation(body: dict, out) -> None:
    """A request's messages (or prompt, or input) and tools, one line each."""
    for m in body.get("messages") or ([{"role": "prompt", "content": body["prompt"]}] if "prompt" in body else []):
        content = m.get("content") if isinstance(m, dict) else m
        if isinstance(content, list):
            content = " ".join(str(p.get("text", p)) if isinstance(p, dict) else str(p) for p in content)
        role = m.get("role", "?") if isinstance(m, dict) else "?"
        print(f"{role}: {content if content is not None else ''}", file=out)
        for call in (m.get("tool_calls") or []) if isinstance(m, dict) else []:
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            if isinstance(fn, dict):
                print(f"  tool call: {fn.get('name', '?')}({str(fn.get('arguments', ''))[:200]})", file=out)
    if body.get("input") is not None and "messages" not in body:
        print(f"input: {json.dumps(body['input'], ensure_ascii=False)[:300]}", file=out)
    tools = [t.get("function", t).get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    if tools:
        print(f"tools: {', '.join(map(str, tools))}", file=out)


class _Missed(Exception):
    """`show KEY` for a request that missed: explained as the proxy did."""

    def __init__(self, store: RecordingStore, request: dict) -> None:
        self.store, self.request = store, request


def _show_miss(target: str, store: RecordingStore, request: dict, out) -> int:
    resource = BY_NAME.get(request["resource"])
    if resource is None:
        print(f"llm-vcr show: {target} missed, for an API this version does not replay", file=sys.stderr)
        return 1
    partials = []
    for path in store.partial_of(target):
        try:
            partials.append((path, read_file(path).partial or "partial"))
        except RecordingError as e:
            partials.append((path, f"unreadable now: {e}"))
    answer = misses.miss(request.get("method", "POST"), resource, target, store.root,
                         store.nearest(resource, request.get("body")), partials)  # fmt: skip
    print(f"== {target}: a request that missed in {shown(store.root)}", file=out)
    body = request.get("body") if isinstance(request.get("body"), dict) else {}
    _conversation(body, out)
    print("-- why it missed", file=out)
    print(answer.message, file=out)
    return 0


def cmd_show(target: str, folder: Path, out=None) -> int:
    out = out or sys.stdout
    try:
        found = _find(target, folder)
    except _Missed as m:
        return _show_miss(target, m.store, m.request, out)
    except RecordingError as e:
        print(f"llm-vcr show: {e}", file=sys.stderr)
        return 1
    for path, rec in found:
        print(f"== {shown(path)}  ({rec.method} {shown(rec.endpoint)}, key {rec.key or '-'})", file=out)
        body = rec.body if isinstance(rec.body, dict) else {}
        _conversation(body, out)
        if rec.partial:
            print(f"partial (never replayed): {rec.partial}", file=out)
        if rec.resource is None:
            print("(an API llm-vcr does not replay)", file=out)
            continue
        if not 200 <= rec.status < 300 or rec.error_body is not None:
            print(f"error answer, status {rec.status}: {rec.replay.body.decode(errors='replace')[:300]}", file=out)
            continue
        print("-- answer", file=out)
        print(render(assemble(rec.resource, rec.chunks, rec.is_streaming), rec.is_streaming), file=out)
    return 0


def verify_file(path: Path) -> list[str]:
    """Problems of one recording file (empty: fine)."""
    try:
        text = files.read_bytes(path).decode("utf-8")
    except files.UnreadableFile as e:
        return [str(e)]
    except UnicodeDecodeError as e:
        return [f"not UTF-8 ({e})"]
    try:
        rec = read_file(path)
    except RecordingError as e:
        return [str(e)]
    problems = []
    items = rec.response_body if isinstance(rec.response_body, list) else [rec.response_body]
    for i, item in enumerate(items):
        if envelopes.is_envelope(item) and not str(item["__type__"]).startswith(SDK_PREFIXES):
            problems.append(f"item {i} has an unknown envelope type {item['__type__']!r}")
        if rec.socket is not None:
            continue  # a session's messages: text and binary ones are data too (checked on reading)
        if rec.is_streaming and rec.partial is None and not isinstance(envelopes.unwrap(item), dict | str):
            problems.append(f"chunk {i} is not a JSON object")
        if rec.is_streaming and rec.partial is None and isinstance(envelopes.unwrap(item), str):
            problems.append(f"chunk {i} is not JSON: {envelopes.unwrap(item)[:60]!r}")
    found: list[str] = []
    redaction.redact_text(text, found)
    if found:
        problems.append(f"holds key-shaped strings: {', '.join(sorted(set(found)))} (record again, or redact)")
    return problems


def collisions(paths: list[Path]) -> list[str]:
    """Different requests that the current matching rules key alike, with different answers: replay
    serves them in file order, which may not be what either test expects."""
    by_key: dict[str, list[tuple[Path, Recording]]] = {}
    for path in paths:
        try:
            rec = read_file(path)
        except RecordingError:
            continue
        if rec.key is not None and rec.partial is None:
            by_key.setdefault(rec.key, []).append((path, rec))
    out = []
    for key, recs in by_key.items():
        bodies = {json.dumps(canonical(r.body), sort_keys=True) for _, r in recs}
        answers = {json.dumps(r.chunks, sort_keys=True, default=str) for _, r in recs}
        if len(bodies) > 1 and len(answers) > 1:
            names = ", ".join(shown(p.name) for p, _ in recs)
            out.append(f"{names} are different requests with different answers, but the matching rules give them "
                       f"one key ({key}): replay serves them in file order")  # fmt: skip
    return out


def cmd_verify(folder: Path, out=None) -> int:
    out = out or sys.stdout
    if (missing := _missing(folder, "verify")) is not None:
        return missing
    paths, skipped = recording_files(folder)
    bad = 0
    for path in progress(paths, "verifying"):
        problems = verify_file(path)
        bad += bool(problems)
        for problem in problems:
            print(f"{shown(path)}: {problem}", file=out)
    for path, reason in skipped:
        print(f"{shown(path)}: {reason}", file=out)
    for line in collisions(paths):
        print(f"warning: {line}", file=out)
    checked = len(paths) + len(skipped)
    print(f"{checked} files checked, {bad + len(skipped)} with problems", file=out)
    return 1 if bad or skipped else 0


def cmd_prune(report_path: Path, folder: Path | None, apply: bool, out=None, scope: str | None = None) -> int:
    out = out or sys.stdout
    try:
        report = json.loads(report_path.read_text())
        unused = report["unused"]
        root = Path(folder or report["dir"]).resolve()
        if scope is not None:  # one test's recordings: its folder, its unused list
            section = report.get("scopes", {}).get(scope)
            if section is None:
                print(f"llm-vcr prune: the report has no scope {scope!r} (scopes: "
                      f"{', '.join(report.get('scopes', {})) or 'none'})", file=sys.stderr)  # fmt: skip
                return 1
            unused, root = section["unused"], Path(section["folder"]).resolve()
        assert isinstance(unused, list)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as e:
        print(f"llm-vcr prune: {report_path} is not a replay report ({e})", file=sys.stderr)
        return 1
    doomed = []
    for rel in unused:
        path = (root / str(rel)).resolve()
        if not path.is_relative_to(root) or path.suffix != ".json":
            print(f"refusing {shown(rel)}: outside {shown(root)} or not a recording", file=out)
            continue
        if path.is_file():
            doomed.append(path)
    failed = 0
    for path in progress(doomed, "pruning"):
        print(("deleting " if apply else "would delete ") + shown(path.relative_to(root)), file=out)
        if apply:
            try:
                path.unlink()
            except OSError as e:
                failed += 1
                print(f"llm-vcr prune: cannot delete {shown(path)}: {e.strerror or e}", file=sys.stderr)
    verb = "deleted" if apply else "would delete (dry run; --apply to delete)"
    print(f"{len(doomed) - failed} unused recordings {verb}", file=out)
    return 1 if failed else 0


def _exchanges_from_har(doc: dict) -> Iterable[tuple[str, str, bytes | None, int, dict[str, str], bytes]]:
    for e in doc["log"]["entries"]:
        req, resp = e["request"], e["response"]
        body = (req.get("postData") or {}).get("text")
        content = resp.get("content") or {}
        data = content.get("text") or ""
        raw = base64.b64decode(data) if content.get("encoding") == "base64" else data.encode()
        headers = {h["name"]: h["value"] for h in resp.get("headers") or []}
        yield req["method"], req["url"], body.encode() if body else None, int(resp["status"]), headers, raw


def _exchanges_from_flows(path: Path) -> Iterable[tuple[str, str, bytes | None, int, dict[str, str], bytes]]:
    from mitmproxy import http, io  # only this subcommand needs mitmproxy

    with open(path, "rb") as f:
        for flow in io.FlowReader(f).stream():
            if isinstance(flow, http.HTTPFlow) and flow.response is not None:
                yield (flow.request.method, flow.request.pretty_url, flow.request.get_content(strict=False),
                       flow.response.status_code, dict(flow.response.headers.items()),
                       flow.response.get_content(strict=False) or b"")  # fmt: skip


def cmd_import(source: Path, folder: Path, out=None) -> int:
    out = out or sys.stdout
    if not source.is_file():  # a FIFO would block the read
        print(f"llm-vcr import: {shown(source)} is not a regular file", file=sys.stderr)
        return 1
    try:
        head = source.read_bytes()[:1]
        if head == b"{":
            exchanges = list(_exchanges_from_har(json.loads(source.read_text())))
        else:
            exchanges = list(_exchanges_from_flows(source))
    except Exception as e:  # any malformed dump: one clear line, never a traceback
        print(f"llm-vcr import: cannot read {shown(source)} as a HAR file or a mitmproxy flow dump: {e}",
              file=sys.stderr)  # fmt: skip
        return 1
    store = RecordingStore(folder)
    store.load()
    written = skipped = failed = 0
    for method, url, req, status, headers, body in progress(exchanges, "importing"):
        resource = classify(method, urlsplit(url).path)
        if resource is None:
            skipped += 1
            continue
        try:
            rec = recording_from_exchange(method=method, url=url, request=req, resource=resource, status=status,
                                          headers=headers, body=body)  # fmt: skip
        except ValueError as e:
            print(f"skipped {method} {url}: {e}", file=out)
            skipped += 1
            continue
        rec.redact_secrets()
        try:
            path = store.write(rec)
        except OSError as e:
            failed += 1
            print(f"llm-vcr import: cannot write to {shown(folder)}: {e.strerror or e}", file=sys.stderr)
            continue
        store.add(path, rec)
        written += 1
        print(shown(path), file=out)
    print(f"{written} recordings written to {shown(folder)}, {skipped} exchanges skipped (not LLM calls or "
          f"unusable)" + (f", {failed} NOT written" if failed else ""), file=out)  # fmt: skip
    return 1 if failed else 0
