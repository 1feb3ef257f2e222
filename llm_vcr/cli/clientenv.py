"""The environment that makes common clients use the proxy and trust its CA, without code changes.

Measured per runtime (see README, "How each client picks up the proxy"):
- Python (httpx, requests), Go, curl read proxy variables; curl only lowercase `http_proxy` for http URLs.
- Python's `SSL_CERT_FILE`, Go's `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE` and boto3's `AWS_CA_BUNDLE` *replace* the
  CA store, so they get a
  combined bundle (public roots + the mitmproxy CA); Node's `NODE_EXTRA_CA_CERTS` appends.
- Node's fetch ignores proxy variables before 22.21 / 24: a preload installs undici's EnvHttpProxyAgent.
- Java ignores the environment; JVM system properties go through `JAVA_TOOL_OPTIONS`, with an empty
  `http.nonProxyHosts` (the default skips loopback) and a trust store copied from the JDK's plus the CA.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PRELOAD = Path(__file__).resolve().parent / "node" / "proxy-preload.cjs"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
TRUSTSTORE_PASSWORD = "changeit"


def public_roots() -> list[Path]:
    """Public CA bundles to keep trusting next to the mitmproxy CA (targets that bypass the proxy)."""
    found: list[Path] = []
    try:
        import certifi  # a mitmproxy dependency

        found.append(Path(certifi.where()))
    except ImportError:
        pass
    for system in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"):
        if Path(system).is_file():
            found.append(Path(system))
            break
    return found


def combined_bundle(ca_pem: Path, out: Path) -> Path:
    parts = [p.read_bytes() for p in public_roots()]
    parts.append(ca_pem.read_bytes())
    out.write_bytes(b"\n".join(parts))
    return out


def java_truststore(ca_pem: Path, out: Path) -> Path | None:
    """A copy of the JDK's cacerts with the mitmproxy CA added, or None without a JDK."""
    java, keytool = shutil.which("java"), shutil.which("keytool")
    if not java or not keytool:
        return None
    cacerts = Path(os.path.realpath(java)).parent.parent / "lib" / "security" / "cacerts"
    if cacerts.is_file():
        shutil.copyfile(cacerts, out)
        out.chmod(0o600)
    cmd = [keytool, "-importcert", "-noprompt", "-alias", "llm-vcr-mitmproxy", "-file", str(ca_pem),
           "-keystore", str(out), "-storepass", TRUSTSTORE_PASSWORD]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    return out if done.returncode == 0 else None


def client_env(
    base: dict[str, str],
    proxy_url: str,
    ca_pem: Path,
    workdir: Path,
    *,
    reverse_base_url: str | None = None,
) -> dict[str, str]:
    """`base` plus what points clients at the proxy: proxy variables (regular mode) or base URLs (reverse)."""
    env = {k: v for k, v in base.items() if k.lower() not in PROXY_VARS}
    bundle = combined_bundle(ca_pem, workdir / "ca-bundle.pem")
    env.update(
        SSL_CERT_FILE=str(bundle), REQUESTS_CA_BUNDLE=str(bundle), CURL_CA_BUNDLE=str(bundle),
        AWS_CA_BUNDLE=str(bundle),  # boto3 / botocore: certifi's store otherwise, whatever SSL_CERT_FILE says
        NODE_EXTRA_CA_CERTS=str(ca_pem), LLM_VCR_PROXY=proxy_url, LLM_VCR_CWD=os.getcwd(),
    )  # fmt: skip
    if reverse_base_url is not None:
        # Clients talk to the proxy as if it were the API; they need no proxy settings at all.
        env["OPENAI_BASE_URL"] = reverse_base_url
        return env
    host_port = proxy_url.split("://", 1)[1]
    env.update(
        HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url, http_proxy=proxy_url, https_proxy=proxy_url,
        NO_PROXY="", no_proxy="",  # loopback targets must go through the proxy too
        NODE_USE_ENV_PROXY="1",  # Node >= 22.21 / 24: built-in
    )  # fmt: skip
    env["NODE_OPTIONS"] = f"{base.get('NODE_OPTIONS', '')} --require {PRELOAD}".strip()  # Node 20: undici agent
    host, port = host_port.rsplit(":", 1)
    java = [f"-D{p}.proxyHost={host}" for p in ("http", "https")] + [
        f"-D{p}.proxyPort={port}" for p in ("http", "https")
    ]
    java.append("-Dhttp.nonProxyHosts=")
    store = java_truststore(ca_pem, workdir / "truststore.p12")
    if store is not None:
        java += [f"-Djavax.net.ssl.trustStore={store}", f"-Djavax.net.ssl.trustStorePassword={TRUSTSTORE_PASSWORD}"]
    env["JAVA_TOOL_OPTIONS"] = " ".join([base.get("JAVA_TOOL_OPTIONS", ""), *java]).strip()
    return env
