"""The loopback servers the tests start, and what happens when one cannot start."""

from __future__ import annotations

import shutil

import pytest

from kinsim import servers
from kinsim.servers import ServerError, free_port, install_kinesalite

from . import conftest


def failing():
    raise ServerError("no node here")


def test_a_server_that_cannot_start_fails_the_test_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="kinesalite could not start under CI=true: no node here"):
        conftest._server(failing, "kinesalite")


def test_a_server_that_cannot_start_skips_the_test_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="kinesalite could not start: no node here"):
        conftest._server(failing, "kinesalite")


def test_installing_kinesalite_without_npm_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ServerError, match="npm is not on PATH"):
        install_kinesalite(tmp_path / "empty")


def test_free_port_is_on_loopback_and_free():
    import socket
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_kinesalite_listens_on_loopback_only(kinesalite_server):
    assert kinesalite_server.endpoint_url.startswith("http://127.0.0.1:")
    assert "'127.0.0.1'" in (conftest.ROOT / ".cache/kinesalite/start-loopback.js").read_text()


def test_a_stopped_server_is_gone():
    server = servers.start_moto_server()
    server.stop()
    assert server.process.poll() is not None


def test_a_server_that_writes_a_lot_to_stderr_keeps_running(tmp_path):
    """moto's server logs every request: what a server writes must never fill a pipe nobody reads (it
    stopped moto mid-answer after a thousand requests or so)."""
    import sys
    port = free_port()
    script = tmp_path / "chatty.py"
    script.write_text(
        "import socket, sys\n"
        "sys.stderr.write('x' * 1_000_000); sys.stderr.flush()\n"
        "server = socket.socket(); server.bind(('127.0.0.1', int(sys.argv[1]))); server.listen()\n"
        "while True: server.accept()[0].close()\n")
    with servers.start_server("chatty", [sys.executable, str(script), str(port)], port, timeout=10) as server:
        assert server.process.poll() is None


def test_installing_an_npm_package_without_npm_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ServerError, match="@aws-sdk/client-kinesis needs node and npm, and npm is not on PATH"):
        servers.install_npm_package(tmp_path / "empty", "@aws-sdk/client-kinesis", "3.0.0")


def test_an_installed_npm_package_is_not_installed_again(monkeypatch, tmp_path):
    """The version in the package's own package.json is what counts: there, npm is not even looked for."""
    package = tmp_path / "node_modules" / "@scope" / "name"
    package.mkdir(parents=True)
    (package / "package.json").write_text('{"name": "@scope/name", "version": "1.2.3"}')
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert servers.install_npm_package(tmp_path, "@scope/name", "1.2.3") == package
    with pytest.raises(ServerError, match="npm is not on PATH"):
        servers.install_npm_package(tmp_path, "@scope/name", "1.2.4")


class _Options:
    """What ``pytest_xdist_auto_num_workers`` reads of a pytest ``Config``."""

    def __init__(self, *args: str, pdb: bool = False) -> None:
        self.args = list(args)
        self.pdb = pdb

    def getoption(self, name: str):
        return self.pdb if name in ("usepdb", "trace") else None


def test_the_suite_runs_on_the_cores_and_one_file_in_one_process(monkeypatch):
    """``-n auto``: xdist's own count (None here) for the suite, a folder or several files; no workers for
    one file or one test of it, or under --pdb; PYTEST_XDIST_AUTO_NUM_WORKERS always has the last word."""
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    monkeypatch.chdir(conftest.ROOT)
    workers = conftest.pytest_xdist_auto_num_workers
    assert workers(_Options("tests")) is None
    assert workers(_Options("tests/test_cli.py", "tests/test_api.py")) is None
    assert workers(_Options("tests/test_cli.py")) == 0
    assert workers(_Options("tests/test_cli.py::test_help_lists_the_commands", "tests/test_cli.py")) == 0
    assert workers(_Options("tests", pdb=True)) == 0
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert workers(_Options("tests/test_cli.py")) is None
