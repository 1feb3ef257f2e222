"""`llm-vcr run`: start the proxy, run a command through it, stop the proxy, summarise.

The proxy is mitmdump with the package's addon script on a free loopback port, started in the
caller's working directory: every relative path a user gives (`--dir`, `--confdir`, any `--set`)
means what it means in their shell. Readiness comes from the addon's port file (works with any log
level); a proxy that exits or stays silent is an error with its log, never a hang.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from llm_vcr.cli.clientenv import client_env
from llm_vcr.matching import misses
from llm_vcr.redaction import redact_log

# The addon script of this very copy of the package (checkout or installed): `llm-vcr addon` prints it.
ADDON = Path(__file__).resolve().parent.parent / "script" / "llm_vcr_addon.py"
START_TIMEOUT = 60.0
# mitmproxy options whose values are paths: shown and read by us as absolute paths.
PATH_OPTIONS = ("vcr_dir", "vcr_report", "vcr_port_file", "confdir", "ssl_verify_upstream_trusted_ca",
                "ssl_verify_upstream_trusted_confdir", "save_stream_file", "rfile", "client_certs")  # fmt: skip

# Exit statuses of `llm-vcr run` besides the command's own.
NOT_RECORDED = 3  # record/auto: a call could not be recorded, or no LLM call reached the proxy
PROXY_FAILED = 70


class ProxyStartError(RuntimeError):
    pass


def mitmdump_path() -> str:
    found = shutil.which("mitmdump", path=str(Path(sys.executable).parent)) or shutil.which("mitmdump")
    if not found:
        raise ProxyStartError("mitmdump not found: install mitmproxy 12 (pip install llm-vcr installs it)")
    return found


def parse_sets(options: list[str]) -> list[tuple[str, str]]:
    """`NAME=VALUE` strings as pairs, in order (a list option such as vcr_ignore may come several
    times). ValueError for one without `=`."""
    out: list[tuple[str, str]] = []
    for item in options:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set takes NAME=VALUE, not {item!r}")
        out.append((name.strip(), value))
    return out


def _absolute(value: str) -> str:
    return os.path.abspath(os.path.expanduser(value)) if value else value


@dataclass
class ProxySpec:
    mode: str = "replay"
    folder: Path = Path("recordings")
    upstream: str | None = None  # reverse proxy to this URL; None: regular proxy
    host: str = "127.0.0.1"
    port: int = 0
    confdir: Path | None = None  # mitmproxy's CA lives here; default ~/.mitmproxy
    options: list[str] = field(default_factory=list)  # extra `--set name=value`: they win over the fields
    args: list[str] = field(default_factory=list)  # extra mitmdump arguments

    def settings(self, port_file: Path | None = None, report: Path | None = None) -> list[tuple[str, str]]:
        """Every `--set` mitmdump gets: ours, unless the user sets the same option (theirs win), then the
        user's in their order. Each of ours is set once; paths are absolute."""
        ours = {"vcr_mode": self.mode, "vcr_dir": str(self.folder)}
        if self.confdir is not None:
            ours["confdir"] = str(self.confdir)
        if port_file is not None:
            ours["vcr_port_file"] = str(port_file)
        if report is not None:
            ours["vcr_report"] = str(report)
        users = parse_sets(self.options)
        chosen = {name for name, _ in users}
        sets = [(k, v) for k, v in ours.items() if k not in chosen] + users
        return [(k, _absolute(v) if k in PATH_OPTIONS else v) for k, v in sets]

    def _last(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in reversed(self.settings()) if k == name), default)

    @property
    def effective_mode(self) -> str:
        return self._last("vcr_mode", self.mode) or self.mode

    @property
    def effective_folder(self) -> Path:
        return Path(self._last("vcr_dir") or self.folder)

    @property
    def ca_pem(self) -> Path:
        confdir = self._last("confdir") or os.path.expanduser("~/.mitmproxy")
        return Path(confdir) / "mitmproxy-ca-cert.pem"

    def command(self, port_file: Path | None = None, report: Path | None = None) -> list[str]:
        if self.upstream:
            listen = ["--mode", f"reverse:{self.upstream}@{self.host}:{self.port}"]
        else:
            listen = ["--listen-host", self.host, "--listen-port", str(self.port)]
        sets = self.settings(port_file, report)
        return [mitmdump_path(), *listen, "-s", str(ADDON),
                *(a for k, v in sets for a in ("--set", f"{k}={v}")), *self.args]  # fmt: skip


def terminate(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM (a clean shutdown: mitmproxy runs `done`), SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_LISTENING = re.compile(rb"(?:proxy|server) listening at (?:\S+ )?\[?([0-9a-fA-F.:]+?)\]?:(\d+)")


class ProxyProcess:
    """mitmdump with the addon as a child process; a context manager that stops it cleanly.

    `workdir` holds the log and, unless the user chose them with `--set`, the port file and report.
    mitmdump runs in `cwd` (default: the caller's working directory).
    """

    def __init__(self, spec: ProxySpec, workdir: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:  # fmt: skip
        self.spec = spec
        workdir.mkdir(parents=True, exist_ok=True)
        stamp = time.monotonic_ns()
        chosen = dict(parse_sets(spec.options))
        self.port_file = Path(_absolute(chosen.get("vcr_port_file") or str(workdir / f"port-{stamp}.json")))
        self.report_path = Path(_absolute(chosen.get("vcr_report") or str(workdir / f"report-{stamp}.json")))
        self.log_path = workdir / f"mitmdump-{stamp}.log"
        self.port_file.unlink(missing_ok=True)  # a stale one from an earlier run must not look like readiness
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            spec.command(self.port_file, self.report_path), stdout=self._log, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True,  # our Ctrl-C handling decides when it stops
        )  # fmt: skip
        try:
            self.host, self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> tuple[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        listening_since: float | None = None
        while time.monotonic() < deadline:
            try:
                host, port = json.loads(self.port_file.read_text())[0][:2]
                if self.ca_pem.is_file():  # on a first start, the CA may be written after the listener
                    return host, int(port)
            except (OSError, ValueError, IndexError, TypeError):
                pass
            if self.proc.poll() is not None:
                raise ProxyStartError(f"mitmdump exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if listening_since is None and _LISTENING.search(self.log_path.read_bytes()):
                listening_since = time.monotonic()
            elif listening_since is not None and time.monotonic() - listening_since > 10:
                raise ProxyStartError(self._stuck_reason())
            time.sleep(0.05)
        raise ProxyStartError(f"mitmdump did not start within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _stuck_reason(self) -> str:
        """The proxy listens but is not ready for clients: say which part is missing."""
        listening = _LISTENING.search(self.log_path.read_bytes())
        where = f"{listening.group(1).decode()}:{listening.group(2).decode()}" if listening else "?"
        if self.port_file.is_file() and not self.ca_pem.is_file():
            missing = f"its CA certificate did not appear at {self.ca_pem} (is --confdir / confdir right?)"
        else:
            missing = f"the llm-vcr addon did not report readiness in {self.port_file} (was it loaded?)"
        return f"mitmdump is listening at {where}, but {missing}:\n{self.log_tail()}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> Path:
        return self.spec.ca_pem

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return redact_log("\n".join(self.log().splitlines()[-lines:]))

    def stop(self) -> dict[str, object]:
        """SIGTERM (the addon then flushes writes and writes its report); the report, or {}."""
        terminate(self.proc)
        if not self._log.closed:
            self._log.close()
        try:
            return json.loads(self.report_path.read_text())
        except (OSError, ValueError):
            return {}

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def summary(report: dict[str, object], spec: ProxySpec) -> str:
    if not report:
        return "llm-vcr: the proxy wrote no report (did it crash? see its log)"
    mode, folder = spec.effective_mode, _relative(spec.effective_folder)
    line = (
        f"llm-vcr: {report.get('hits', 0)} replayed, {report.get('misses', 0)} missed, "
        f"{report.get('recorded', 0)} recorded ({mode} mode, {folder})"
    )
    extra = [f"{report[k]} {label}" for k, label in (
        ("partial", "partial"), ("write_failed", "NOT WRITTEN (disk errors)"), ("refused", "refused (secrets)"),
        ("not_recorded", "passed through unrecorded"), ("unsupported", "to endpoints not replayed yet"),
    ) if report.get(k)]  # fmt: skip
    if extra:
        line += ", " + ", ".join(extra)
    if report.get("scopes"):
        line += f", {len(report['scopes'])} test scopes"
    if report.get("misses"):
        keys = [str(k) for k in report.get("miss_keys", [])]
        line += f"; misses: {misses.summary(int(report['misses']), keys)} (see the proxy log above)"
    return line


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


EMPTY_RUN_HELP = """\
llm-vcr: the proxy saw no LLM call while the command ran ({other} other requests), so nothing was recorded.
  Likely cause: the client does not use the proxy variables llm-vcr run sets (HTTPS_PROXY, HTTP_PROXY):
  - Python aiohttp without trust_env=True (aiohttp.ClientSession(trust_env=True) reads them);
  - the Node openai v4 SDK (node-fetch with its own agent), or Node 20 fetch without undici
    (npm install -D undici@7: llm-vcr's preload then routes fetch through the proxy);
  - a client with its own proxy setting, or one that calls a host llm-vcr does not recognise.
  Remedy: reverse mode, which needs no proxy support at all:
    llm-vcr run --mode {mode} --upstream https://api.openai.com -- COMMAND   (the client gets OPENAI_BASE_URL)
  If the command makes no LLM call on purpose, pass --allow-empty."""


def strict_problems(report: dict[str, object]) -> list[str]:
    """What `--strict` fails on: scopes (tests) that missed or left recordings unused, and misses outside any
    scope (unused recordings there are not a failure: a run of some of the tests leaves the others' unused)."""
    out = []
    scopes = report.get("scopes") or {}
    unscoped = int(report.get("misses") or 0) - sum(int(s.get("misses") or 0) for s in scopes.values())
    if unscoped > 0:
        out.append(f"{unscoped} missed outside any test scope")
    for name, scope in scopes.items():
        if scope.get("misses"):
            out.append(f"{name}: {scope['misses']} missed")
        if scope.get("unused"):
            out.append(f"{name}: {len(scope['unused'])} recordings unused ({', '.join(scope['unused'][:3])}…)")
    return out


def _runs_pytest(command: list[str]) -> bool:
    names = [Path(c).name for c in command[:3]]
    return any(n in ("pytest", "py.test") for n in names) or ("pytest" in command[1:3] and "-m" in command[:3])


def run(spec: ProxySpec, command: list[str], allow_empty: bool = False, strict: bool = False) -> int:
    """Run `command` through a fresh proxy; its exit status is ours, unless recording lost something."""
    with tempfile.TemporaryDirectory(prefix="llm-vcr-run-") as tmp:
        work = Path(tmp)
        try:
            proxy = ProxyProcess(spec, work)
        except (ProxyStartError, ValueError) as e:
            print(f"llm-vcr: the proxy did not start: {e}", file=sys.stderr)
            return PROXY_FAILED
        with proxy:
            reverse = f"{proxy.url}/v1" if spec.upstream else None
            env = client_env(dict(os.environ), proxy.url, proxy.ca_pem, work, reverse_base_url=reverse)
            try:
                status = subprocess.call(command, env=env)
            except FileNotFoundError:
                print(f"llm-vcr: command not found: {command[0]}", file=sys.stderr)
                status = 127
            except KeyboardInterrupt:
                status = 130
            report = proxy.stop()
            lost = sum(int(report.get(k, 0) or 0) for k in ("write_failed", "refused", "not_recorded"))
            if report.get("misses") or lost or proxy.proc.returncode not in (0, None):
                sys.stderr.write(proxy.log_tail(15) + "\n")
        print(summary(report, spec), file=sys.stderr)
        if report and _runs_pytest(command) and not report.get("scopes") and report.get("llm_requests"):
            print(
                "llm-vcr: pytest ran without per-test recordings: install llm-vcr in the environment pytest runs "
                "in (its pytest plugin scopes each test), or pass -p no:llm_vcr to keep one folder",
                file=sys.stderr,
            )
        if strict and report and status == 0 and (problems := strict_problems(report)):
            print("llm-vcr --strict: " + "; ".join(problems), file=sys.stderr)
            return NOT_RECORDED
        mode = spec.effective_mode
        if mode not in ("record", "auto") or status != 0 or not report:
            return status
        if lost:
            print(f"llm-vcr: {lost} LLM calls were NOT recorded (see above and the report); exit status "
                  f"{NOT_RECORDED}", file=sys.stderr)  # fmt: skip
            return NOT_RECORDED
        if not report.get("llm_requests") and not allow_empty:
            print(EMPTY_RUN_HELP.format(other=report.get("other_requests", 0), mode=mode), file=sys.stderr)
            return NOT_RECORDED if mode == "record" else status
        return status
