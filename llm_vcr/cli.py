"""`llm-vcr`: command-line entry points.

llm-vcr proxy [--mode replay|record|auto|live] [--dir DIR] [--port N] [--upstream URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .vcr import MODES

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "addon" / "llm_vcr.py"


def mitmdump_path() -> str:
    found = shutil.which("mitmdump", path=str(Path(sys.executable).parent)) or shutil.which("mitmdump")
    if not found:
        sys.exit("llm-vcr: mitmdump not found; install mitmproxy 12 (scripts/llm-vcr does it for you)")
    return found


def proxy_command(args: argparse.Namespace) -> list[str]:
    if args.upstream:
        listen = ["--mode", f"reverse:{args.upstream}@{args.host}:{args.port}"]
    else:
        listen = ["--listen-host", args.host, "--listen-port", str(args.port)]
    return [
        mitmdump_path(), *listen, "-s", str(ADDON),
        "--set", f"vcr_mode={args.mode}", "--set", f"vcr_dir={args.dir}",
        *args.mitmproxy_args,
    ]  # fmt: skip


def cmd_proxy(args: argparse.Namespace) -> None:
    cmd = proxy_command(args)
    where = f"http://{args.host}:{args.port}"
    if args.upstream:
        hint = f"point your client's base URL at {where}/v1 (reverse proxy to {args.upstream})"
    else:
        hint = f"use it as an HTTP(S) proxy: curl -x {where} …, HTTPS_PROXY={where}"
    print(f"llm-vcr: {args.mode} mode, recordings in {Path(args.dir).resolve()}; {hint}", file=sys.stderr)
    sys.stderr.flush()
    os.execv(cmd[0], cmd)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="llm-vcr",
        description="Record and replay OpenAI-compatible LLM traffic through mitmproxy, "
        "so agents in any language get offline, deterministic tests with no code change.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "proxy",
        help="run the recording/replaying proxy in the foreground",
        description="Run mitmdump with the llm-vcr addon. Without --upstream it is a regular HTTP(S) "
        "proxy (clients set HTTP(S)_PROXY); with --upstream it is a reverse proxy to that URL "
        "(clients only change their base URL). Extra arguments after -- go to mitmdump.",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        default="replay",
        help="replay (default): answer from recordings, never contact the upstream; record: pass "
        "through and store; auto: replay hits, record misses; live: pass through, store nothing",
    )
    p.add_argument("--dir", default="recordings", help="recordings folder (default: ./recordings)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0 picks a free one)")
    p.add_argument("--upstream", help="reverse-proxy to this base URL, e.g. https://api.openai.com")
    p.add_argument("mitmproxy_args", nargs=argparse.REMAINDER, help="-- then extra mitmdump arguments")
    p.set_defaults(func=cmd_proxy)
    args = parser.parse_args(argv)
    if args.mitmproxy_args[:1] == ["--"]:
        args.mitmproxy_args = args.mitmproxy_args[1:]
    args.func(args)


if __name__ == "__main__":
    main()
