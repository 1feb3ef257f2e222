"""Real processes for end-to-end tests: mitmdump with the addon, the inference engine,
and a TCP relay that counts every connection made to "the upstream"."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import traceback
import urllib.request
from pathlib import Path

from llm_vcr.cli.run import ProxyProcess, ProxySpec

ROOT = Path(__file__).resolve().parents[2]
ADDON_DIR = ROOT / "addon"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without proxy settings a CI box may have (they would bypass or hijack)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(extra)
    return env


def free_port() -> int:
    """A port free right now (for programs that cannot report the port they bound, like mitmweb's UI)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"timed out waiting for {what}" + (f"; log:\n{detail}" if detail else ""))


def Mitmdump(
    workdir: Path,
    vcr_dir: Path,
    mode: str = "replay",
    *args: str,
    reverse: str | None = None,
    confdir: Path | None = None,
    options: tuple[str, ...] = (),
) -> ProxyProcess:
    """`mitmdump -s addon/llm_vcr.py` as a subprocess, as users run it (the same code as `llm-vcr run`)."""
    spec = ProxySpec(
        mode=mode,
        folder=vcr_dir,
        upstream=reverse,
        confdir=confdir or workdir / "conf",
        options=list(options),
        args=list(args),
    )
    return ProxyProcess(spec, workdir, env=clean_env())


class LoopServer:
    """A TCP server on its own event loop in a daemon thread (test peers; `_handle` serves a connection)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)


class CountingRelay(LoopServer):
    """A TCP relay in front of an upstream that counts connections, and can stop forwarding.

    With forwarding off it still accepts (and counts) connections, then closes them: a
    stopped upstream that would notice any attempt to reach it. With `tls`, it terminates TLS
    (a TLS front for a plain-HTTP engine).
    """

    def __init__(self, target_host: str, target_port: int, tls: ssl.SSLContext | None = None) -> None:
        self.target = (target_host, target_port)
        self.forwarding = True
        self.connections = 0
        super().__init__(tls)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if not self.forwarding:
            writer.close()
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


class Engine:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2 (chat, tools) and its embedding copy."""

    CHAT_MODEL = "smollm2"
    EMBED_MODEL = "smollm2-embed"

    def __init__(self, workdir: Path) -> None:
        engine_json = (
            subprocess.run([str(ROOT / "scripts" / "engine")], check=True, stdout=subprocess.PIPE, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        info = json.loads(Path(engine_json).read_text())
        config = {
            "host": "127.0.0.1",
            "port": 0,
            "interrupt_requests": False,
            "models": [
                {
                    "model": info["chat_model"],
                    "model_alias": self.CHAT_MODEL,
                    "n_ctx": 2048,
                    "n_threads": 2,
                    "chat_format": "chatml-function-calling",
                    "seed": 42,
                    "verbose": False,
                },
                {
                    "model": info["embed_model"],
                    "model_alias": self.EMBED_MODEL,
                    "n_ctx": 512,
                    "n_threads": 2,
                    "embedding": True,
                    "verbose": False,
                },
            ],
        }
        workdir.mkdir(parents=True, exist_ok=True)
        cfg = workdir / "engine.json"
        cfg.write_text(json.dumps(config))
        self.log_path = workdir / "engine.log"
        self._log = open(self.log_path, "wb")
        env = clean_env()
        env.pop("PORT", None)  # uvicorn's PORT/HOST would override the config file
        env.pop("HOST", None)
        self.proc = subprocess.Popen(
            [info["python"], "-m", "llama_cpp.server", "--config_file", str(cfg)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        port = wait_for(self._port, 120, "the engine to listen", self.proc, self.log_path)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(self._ready, 60, "the engine to answer /v1/models", self.proc, self.log_path)

    def _port(self) -> int | None:
        m = re.search(rb"Uvicorn running on http://127\.0\.0\.1:(\d+)", self.log_path.read_bytes())
        return int(m.group(1)) if m else None

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v1/models", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


class ScriptedUpstream(LoopServer):
    """A raw HTTP/1.1 server that answers each path with scripted bytes, faults included.

    `routes` maps a path to a list of byte strings written in order, or to a function of the
    request body returning one; a number in the list is a pause in seconds (a stall). The
    connection is then closed, so a script without a chunked terminator is a stream cut mid-way.
    `delay` is the pause between parts.
    """

    def __init__(self, routes: dict, delay: float = 0.01) -> None:
        self.delay = delay
        self.routes = routes
        self.requests: list[tuple[str, bytes]] = []
        super().__init__()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1)) if b"ength:" in head else 0
            body = await reader.readexactly(length)
            path = head.split(b" ", 2)[1].decode()
            self.requests.append((path, body))
            script = self.routes.get(path) or self.routes.get(
                path.split("?", 1)[0], [b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"]
            )
            for part in script(body) if callable(script) else script:
                if isinstance(part, int | float):
                    await asyncio.sleep(part)
                    continue
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(self.delay)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:  # a bug in a test's script: say so, the client then sees a closed connection
            traceback.print_exc()
        finally:
            writer.close()


def sse_response(*events: bytes, terminate: bool = True) -> list[bytes]:
    """Chunked SSE answer; with terminate=False the chunked body never ends (a cut stream)."""
    parts = [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    ]  # the scripted upstream closes after every answer
    parts += [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
    if terminate:
        parts.append(b"0\r\n\r\n")
    return parts


def json_response(status: int, body: bytes) -> list[bytes]:
    return raw_response(status, "application/json", body)


def raw_response(status: int, content_type: str, body: bytes) -> list[bytes]:
    """A whole answer with content-length; the scripted upstream closes after it, and says so."""
    head = f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
    return [head.encode() + b"connection: close\r\n\r\n" + body]


def make_tls(workdir: Path, hostname: str) -> tuple[ssl.SSLContext, Path]:
    """A test CA and a server certificate for `hostname` and 127.0.0.1: (server context, CA pem)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llm-vcr test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    workdir.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = workdir / "test-ca.pem", workdir / "server.pem", workdir / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_pem, key_pem)
    return ctx, ca_pem


class LocalServer:
    """A threaded HTTP server on a free loopback port, the base of the scripted upstreams here:
    a subclass builds its request handler and calls `serve(handler)`."""

    port: int

    def serve(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_json(h: http.server.BaseHTTPRequestHandler, status: int, doc: object,
              content_type: str = "application/json") -> None:  # fmt: skip
    data = json.dumps(doc).encode()
    h.send_response(status)
    h.send_header("content-type", content_type)
    h.send_header("content-length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


class KeepAliveUpstream(LocalServer):
    """A plain HTTP/1.1 server with keep-alive that answers every request 200 and records
    (method, path) and connections: proves which requests reached "the upstream" and which did not."""

    def __init__(self) -> None:
        outer = self
        self.requests: list[tuple[str, str]] = []
        self.connections = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                outer.requests.append((self.command, self.path))
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler)
