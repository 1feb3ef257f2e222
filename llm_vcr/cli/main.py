"""`llm-vcr`: command-line entry points.

llm-vcr proxy [--mode M] [--dir DIR] [--port N] [--upstream URL]       the proxy, in the foreground
llm-vcr run   [--mode M] [--dir DIR] [--upstream URL] -- COMMAND ARGS   COMMAND through a fresh proxy
llm-vcr ls | show FILE|KEY | verify | prune --report R [--apply] | import FILE   the recordings
llm-vcr addon                                                           the addon script, for mitmdump -s
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from llm_vcr import config, scopes
from llm_vcr.cli.run import ADDON, ProxySpec, ProxyStartError, run
from llm_vcr.matching import normalize
from llm_vcr.matching.normalize import RuleError
from llm_vcr.vcr import MODES

MODE_HELP = (
    "replay (default): answer from recordings, never contact the upstream; record: pass through and store "
    "every call; auto: replay hits, record misses; live: pass through, store nothing"
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=MODES, default="replay", help=MODE_HELP)
    p.add_argument("--dir", default="recordings", type=Path, help="recordings folder (default: ./recordings)")
    p.add_argument("--upstream", metavar="URL",
                   help="reverse proxy to this API root (e.g. https://api.openai.com): clients only change their "
                   "base URL; without it, a regular HTTP(S) proxy")  # fmt: skip
    p.add_argument("--confdir", type=Path, help="mitmproxy's folder with its CA (default: ~/.mitmproxy)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="NAME=VALUE",
                   help="a mitmproxy option, e.g. --set ssl_insecure=true (repeatable)")  # fmt: skip


def _spec(args: argparse.Namespace, **extra: object) -> ProxySpec:
    return ProxySpec(mode=args.mode, folder=args.dir, upstream=args.upstream, confdir=args.confdir,
                     options=args.options, **extra)  # fmt: skip


def _check_rules(command: str) -> None:
    """A bad project config file is said in one line before the proxy starts (mitmproxy would show a
    traceback and exit)."""
    try:
        config.rules(Path.cwd())
    except RuleError as e:
        sys.exit(f"llm-vcr {command}: {e}")


def cmd_proxy(args: argparse.Namespace) -> int:
    _check_rules("proxy")
    spec = _spec(args, host=args.host, port=args.port)
    try:
        cmd = spec.command()
    except (ProxyStartError, ValueError) as e:
        sys.exit(f"llm-vcr: {e}")
    where = f"http://{args.host}:{args.port}"
    if args.upstream:
        hint = f"point your client's base URL at {where}/v1 (reverse proxy to {args.upstream})"
    else:
        hint = f"use it as an HTTP(S) proxy: curl -x {where} …, HTTPS_PROXY={where}"
    print(f"llm-vcr: {spec.effective_mode} mode, recordings in {spec.effective_folder}; {hint}", file=sys.stderr,
          flush=True)  # fmt: skip
    os.execv(cmd[0], cmd)
    return 0  # not reached


def cmd_run(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        sys.exit("llm-vcr run: give the command to run after --, e.g. llm-vcr run -- pytest tests/")
    _check_rules("run")
    try:
        _spec(args).settings()
    except ValueError as e:
        sys.exit(f"llm-vcr run: {e}")
    return run(_spec(args), command, allow_empty=args.allow_empty, strict=args.strict)


def cmd_addon(args: argparse.Namespace) -> int:
    print(ADDON)
    return 0


HELPERS = Path(__file__).resolve().parent


def cmd_node_setup(args: argparse.Namespace) -> int:
    print(HELPERS / "node" / ("jest-setup.cjs" if args.jest else "vitest-setup.mjs"))
    return 0


def cmd_go_helper(args: argparse.Namespace) -> int:
    print(HELPERS / "go" / "llmvcr" / "llmvcr.go")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="llm-vcr",
        description="Record and replay OpenAI-compatible LLM traffic through mitmproxy, so agents in any "
        "language get fast, deterministic, offline tests with no code change.",
        epilog="Typical use: 'llm-vcr run --mode record -- pytest' once against the real API, commit "
        "recordings/, then 'llm-vcr run -- pytest' (replay) everywhere else.",
    )
    commands = "{run,proxy,ls,show,verify,prune,import,addon,node-setup,go-helper}"
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar=commands)

    p = sub.add_parser(
        "run", help="run a command (your test suite) through a fresh proxy",
        description="Start the proxy on a free loopback port, run COMMAND with an environment that makes common "
        "clients use it (proxy variables, a CA bundle, Node and Java settings; or, with --upstream, "
        "OPENAI_BASE_URL), stop the proxy and print a one-line summary. Exits with COMMAND's status; in record "
        "and auto mode with 3 when COMMAND succeeded but an LLM call could not be recorded (disk errors, "
        "secrets refused, bodies that are not JSON), and in record mode when no LLM call reached the proxy "
        "(--allow-empty). Relative paths are the caller's.",
    )  # fmt: skip
    _common(p)
    p.add_argument("--allow-empty", action="store_true",
                   help="in record mode, do not fail when the command made no LLM call through the proxy")  # fmt: skip
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 3 when a request missed, or a test's scope left recordings unused (per-test recordings)",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "proxy", help="run the proxy in the foreground",
        description="Run mitmdump with the llm-vcr addon until Ctrl-C. Without --upstream it is a regular "
        "HTTP(S) proxy (clients set HTTP(S)_PROXY and trust ~/.mitmproxy/mitmproxy-ca-cert.pem for https); with "
        "--upstream it is a reverse proxy (clients only change their base URL).",
    )  # fmt: skip
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0: any free port)")
    p.set_defaults(func=cmd_proxy)

    p = sub.add_parser(
        "addon", help="print the path of the addon script, for mitmdump -s / mitmweb -s",
        description='Print the path of this installed copy\'s addon script: mitmdump -s "$(llm-vcr addon)" '
        "--listen-host 127.0.0.1 (mitmproxy listens on every interface unless told otherwise).",
    )  # fmt: skip
    p.set_defaults(func=cmd_addon)
    p = sub.add_parser(
        "node-setup", help="print the path of the Vitest (or Jest) setup file for per-test recordings",
        description="Vitest: add the printed file to test.setupFiles; Jest (--jest): to setupFilesAfterEnv. "
        "Under `llm-vcr run`, each test's LLM calls then use the recordings folder of its own scope.",
    )  # fmt: skip
    p.add_argument("--jest", action="store_true", help="the Jest setup file (default: Vitest's)")
    p.set_defaults(func=cmd_node_setup)
    p = sub.add_parser(
        "go-helper", help="print the path of the Go helper (llmvcr.Scope(t)) for per-test recordings",
        description="Copy the printed file into your module and call llmvcr.Scope(t) at the start of each test.",
    )  # fmt: skip
    p.set_defaults(func=cmd_go_helper)

    _recordings_commands(sub)
    args = parser.parse_args(argv)
    if args.subcommand in ("ls", "show", "verify", "import"):
        try:  # keys as the proxy would compute them here: the project's matching rules
            normalize.set_active(config.rules(Path.cwd()))
        except RuleError as e:
            sys.exit(f"llm-vcr {args.subcommand}: matching rules: {e}")
    try:
        status = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # `llm-vcr show … | head`: the reader left; that is not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    except KeyboardInterrupt:
        status = 130
    sys.exit(status)


def _scope_folder(folder: Path, scope: str | None) -> Path:
    if scope is None:
        return folder
    try:
        return scopes.folder_of(folder, scope)
    except ValueError as e:
        sys.exit(f"llm-vcr: {e}")


def _recordings_commands(sub) -> None:
    from llm_vcr.cli import recordings as rc

    def folder(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", default="recordings", type=Path, help="recordings folder (default: ./recordings)")

    p = sub.add_parser("ls", help="list recordings: key, endpoint, model, streaming, chunks, size, age")
    folder(p)
    p.add_argument("--scope", metavar="NAME", help="only this test's recordings (its scope, e.g. a pytest node id)")
    p.set_defaults(func=lambda a: rc.cmd_ls(_scope_folder(a.dir, a.scope)))
    p = sub.add_parser("show", help="the conversation of a recording: messages, tools, answer")
    p.add_argument("target", metavar="FILE|KEY", help="a recording file, or a 16-hex request key (from a miss)")
    folder(p)
    p.set_defaults(func=lambda a: rc.cmd_show(a.target, a.dir))
    p = sub.add_parser("verify", help="check every recording (for CI): parses, known types, JSON chunks, no secrets")
    folder(p)
    p.set_defaults(func=lambda a: rc.cmd_verify(a.dir))
    p = sub.add_parser("prune", help="delete recordings a run never used (dry run unless --apply)")
    p.add_argument("--report", required=True, type=Path, help="the run's report (vcr_report / llm-vcr run)")
    p.add_argument("--dir", type=Path, help="recordings folder (default: the report's)")
    p.add_argument("--apply", action="store_true", help="really delete")
    p.add_argument("--scope", metavar="NAME", help="only this test's unused recordings")
    p.set_defaults(func=lambda a: rc.cmd_prune(a.report, a.dir, a.apply, scope=a.scope))
    p = sub.add_parser("import", help="turn a mitmproxy flow dump or a HAR file of LLM traffic into recordings")
    p.add_argument("source", type=Path, metavar="FILE")
    folder(p)
    p.set_defaults(func=lambda a: rc.cmd_import(a.source, a.dir))


if __name__ == "__main__":
    main()
