import shutil
import subprocess

import pytest

from llm_vcr.cli.clientenv import PRELOAD, client_env, combined_bundle

CA = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


@pytest.fixture
def ca(tmp_path):
    p = tmp_path / "mitmproxy-ca-cert.pem"
    p.write_bytes(CA)
    return p


def test_regular_mode_sets_every_runtime_and_clears_inherited_bypasses(ca, tmp_path):
    base = {"PATH": "/usr/bin", "no_proxy": "127.0.0.1", "HTTPS_PROXY": "http://corp:3128", "NODE_OPTIONS": "--x"}
    env = client_env(base, "http://127.0.0.1:4567", ca, tmp_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        assert env[var] == "http://127.0.0.1:4567"
    assert env["NO_PROXY"] == env["no_proxy"] == ""
    assert env["NODE_USE_ENV_PROXY"] == "1" and env["NODE_OPTIONS"] == f"--x --require {PRELOAD}"
    assert env["NODE_EXTRA_CA_CERTS"] == str(ca)
    path = str(tmp_path / "ca-bundle.pem")
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == env["CURL_CA_BUNDLE"] == env["AWS_CA_BUNDLE"] == path
    bundle = (tmp_path / "ca-bundle.pem").read_bytes()
    assert bundle.endswith(CA) and bundle.count(b"BEGIN CERTIFICATE") > 10  # public roots kept
    java = env["JAVA_TOOL_OPTIONS"]
    assert "-Dhttps.proxyHost=127.0.0.1" in java and "-Dhttps.proxyPort=4567" in java
    assert "-Dhttp.nonProxyHosts= " in java + " "


def test_reverse_mode_sets_only_the_base_url_and_trust(ca, tmp_path):
    env = client_env(
        {"PATH": "/usr/bin", "HTTP_PROXY": "x"},
        "http://127.0.0.1:4567",
        ca,
        tmp_path,
        reverse_base_url="http://127.0.0.1:4567/v1",
    )
    assert env["OPENAI_BASE_URL"] == "http://127.0.0.1:4567/v1"
    assert not {"HTTP_PROXY", "HTTPS_PROXY", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS"} & set(env)


@pytest.mark.skipif(not shutil.which("keytool"), reason="no JDK: the trust store is made with keytool")
def test_java_trust_store_holds_the_ca(tmp_path):
    # A real CA, as keytool validates what it imports.
    from mitmproxy.certs import CertStore

    store = CertStore.from_store(tmp_path / "conf", "mitmproxy", 2048)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(store.default_ca.to_pem())
    env = client_env({"PATH": "/usr/bin:/bin"}, "http://127.0.0.1:1", ca, tmp_path)
    assert f"-Djavax.net.ssl.trustStore={tmp_path / 'truststore.p12'}" in env["JAVA_TOOL_OPTIONS"]
    listing = subprocess.run(
        ["keytool", "-list", "-keystore", str(tmp_path / "truststore.p12"), "-storepass", "changeit"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "llm-vcr-mitmproxy" in listing


def test_combined_bundle_ends_with_the_ca(ca, tmp_path):
    assert combined_bundle(ca, tmp_path / "b.pem").read_bytes().endswith(CA)


@pytest.mark.skipif(not shutil.which("node"), reason="Node.js not installed")
def test_node_preload_warns_instead_of_failing_without_undici(tmp_path):
    done = subprocess.run(
        ["node", "--require", str(PRELOAD), "-e", "console.log('app ran')"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/usr/local/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "app ran"
    if (
        int(
            subprocess.run(["node", "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True).stdout
        )
        < 22
    ):
        assert "install undici@7" in done.stderr
