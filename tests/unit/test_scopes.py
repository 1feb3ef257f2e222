import os
import socket
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from llm_vcr import scopes


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("tests/test_agent.py::test_weather[paris]", "tests/test_agent.py/test_weather[paris]"),
        ("../../etc/passwd", "%2E%2E/%2E%2E/etc/passwd"),
        ("/abs//path", "abs/path"),
        ("a/./b/..", "a/%2E/b/%2E%2E"),
        (".hidden::x", "%2Ehidden/x"),
        ("tëst::ünïcode 🎉", "tëst/ünïcode 🎉"),
        ("a\\b:c\x00d", "a%5Cb%3Ac%00d"),
    ],
)
def test_scope_names_map_to_readable_folders_that_cannot_escape(name, path, tmp_path):
    assert scopes.scope_path(name) == PurePosixPath(path)
    assert scopes.folder_of(tmp_path, name).resolve().is_relative_to(tmp_path.resolve())


def test_long_and_empty_names():
    long = scopes.scope_path("x" * 500)
    assert len(str(long).encode()) <= 120 and "~" in str(long)
    with pytest.raises(ValueError):
        scopes.scope_path("::/")


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "recs").mkdir()
    (tmp_path / "recs" / "evil").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="leads out"):
        scopes.folder_of(tmp_path / "recs", "evil::x")


def test_a_lingering_closed_connection_on_the_same_port_is_not_taken_for_the_live_one(tmp_path):
    # /proc/net/tcp may list a TIME_WAIT entry (inode 0) for the same local port before the live one.
    (tmp_path / "net").mkdir()
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = "   {n}: 0100007F:C950 0100007F:1F90 {st} 00000000:00000000 00:00000000 00000000     0        0 {inode}\n"
    rows = row.format(n=0, st="06", inode=0) + row.format(n=1, st="01", inode=4242)
    (tmp_path / "net" / "tcp").write_text(header + rows)
    assert scopes.socket_inode("127.0.0.1", 0xC950, tmp_path) == 4242


def test_the_process_behind_a_connection_and_its_children():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    grandchild = f"import socket,time; s=socket.create_connection(('127.0.0.1',{port})); time.sleep(5)"
    child_code = (f"import socket,time,subprocess,sys; s=socket.create_connection(('127.0.0.1',{port})); "
                  f"subprocess.Popen([sys.executable,'-c',{grandchild!r}]); time.sleep(5)")  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", child_code])
    try:
        conns = [srv.accept() for _ in range(2)]
        for _, (ip, p) in conns:
            assert scopes.client_process_scope(ip, p, {child.pid: "the-test"}) == "the-test"
            assert scopes.client_process_scope(ip, p, {os.getpid() + 10**7: "nobody"}) is None
        chain = scopes.client_chain(conns[1][1][0], conns[1][1][1], {child.pid})
        assert chain is not None and chain[1] == child.pid  # the grandchild, then its parent
    finally:
        child.kill()
        for conn, _ in conns:
            conn.close()
        srv.close()


def test_scope_summaries(tmp_path):
    scope = scopes.open_scope(tmp_path, "t::x", None, 10**6)
    assert scope.store.root == tmp_path / "t" / "x" and scope.summary()["unused"] == []
    scopes.mark(scope.store.root, "t::x")
    assert (Path(scope.store.root) / scopes.MARKER).read_text() == "t::x\n"
