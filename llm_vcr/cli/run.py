"""`llm-vcr run`: start the proxy, run a command through it, stop the proxy, summarise.

The proxy is `mitmdump -s addon/llm_vcr.py` on a free loopback port. Readiness comes from the
addon's port file (works with any log level); a proxy that exits or stays silent is an error
with its log, never a hang.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from llm_vcr.cli.clientenv import client_env

# The addon script of this very copy of the package (checkout or installed): `llm-vcr addon` prints it.
ADDON = Path(__file__).resolve().parent.parent / "script" / "llm_vcr_addon.py"
START_TIMEOUT = 60.0


class ProxyStartError(RuntimeError):
    pass


def mitmdump_path() -> str:
    found = shutil.which("mitmdump", path=str(Path(sys.executable).parent)) or shutil.which("mitmdump")
    if not found:
        raise ProxyStartError("mitmdump not found: install mitmproxy 12 (scripts/llm-vcr does it for you)")
    return found


@dataclass
class ProxySpec:
    mode: str = "replay"
    folder: Path = Path("recordings")
    upstream: str | None = None  # reverse proxy to this URL; None: regular proxy
    host: str = "127.0.0.1"
    port: int = 0
    confdir: Path | None = None  # mitmproxy's CA lives here; default ~/.mitmproxy
    options: list[str] = field(default_factory=list)  # extra `--set name=value`
    args: list[str] = field(default_factory=list)  # extra mitmdump arguments

    def command(self, port_file: Path | None = None, report: Path | None = None) -> list[str]:
        if self.upstream:
            listen = ["--mode", f"reverse:{self.upstream}@{self.host}:{self.port}"]
        else:
            listen = ["--listen-host", self.host, "--listen-port", str(self.port)]
        sets = [f"vcr_mode={self.mode}", f"vcr_dir={self.folder}", *self.options]
        if self.confdir is not None:
            sets.append(f"confdir={self.confdir}")
        if port_file is not None:
            sets.append(f"vcr_port_file={port_file}")
        if report is not None:
            sets.append(f"vcr_report={report}")
        return [mitmdump_path(), *listen, "-s", str(ADDON), *(a for s in sets for a in ("--set", s)), *self.args]


def terminate(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM (a clean shutdown: mitmproxy runs `done`), SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ProxyProcess:
    """mitmdump with the addon as a child process; a context manager that stops it cleanly."""

    def __init__(self, spec: ProxySpec, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.spec = spec
        workdir.mkdir(parents=True, exist_ok=True)
        stamp = time.monotonic_ns()
        self.port_file = workdir / f"port-{stamp}.json"
        self.report_path = workdir / f"report-{stamp}.json"
        self.log_path = workdir / f"mitmdump-{stamp}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            spec.command(self.port_file, self.report_path), stdout=self._log, stderr=subprocess.STDOUT,
            env=env, cwd=workdir, start_new_session=True,  # our Ctrl-C handling decides when it stops
        )  # fmt: skip
        self.host, self.port = self._wait_ready()

    def _wait_ready(self) -> tuple[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                host, port = json.loads(self.port_file.read_text())[0][:2]
                if self.ca_pem.is_file():  # on a first start, the CA may be written after the listener
                    return host, int(port)
            except (OSError, ValueError, IndexError):
                pass
            if self.proc.poll() is not None:
                raise ProxyStartError(f"mitmdump exited with status {self.proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.05)
        self.stop()
        raise ProxyStartError(f"mitmdump did not start within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> Path:
        confdir = self.spec.confdir or Path.home() / ".mitmproxy"
        return confdir / "mitmproxy-ca-cert.pem"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

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
    line = (
        f"llm-vcr: {report.get('hits', 0)} replayed, {report.get('misses', 0)} missed, "
        f"{report.get('recorded', 0)} recorded ({spec.mode} mode, {spec.folder})"
    )
    if report.get("partial"):
        line += f", {report['partial']} partial"
    if report.get("misses"):
        line += "; misses: " + ", ".join(map(str, report.get("miss_keys", []))) + " (see the proxy log above)"
    return line


def run(spec: ProxySpec, command: list[str]) -> int:
    """Run `command` through a fresh proxy; its exit status is ours."""
    with tempfile.TemporaryDirectory(prefix="llm-vcr-run-") as tmp:
        work = Path(tmp)
        try:
            proxy = ProxyProcess(spec, work)
        except ProxyStartError as e:
            print(f"llm-vcr: the proxy did not start: {e}", file=sys.stderr)
            return 70
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
            if report.get("misses") or proxy.proc.returncode not in (0, None):
                sys.stderr.write(proxy.log_tail(15) + "\n")
        print(summary(report, spec), file=sys.stderr)
        return status
