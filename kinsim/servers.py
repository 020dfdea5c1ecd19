"""Real Kinesis implementations on loopback, for tests: kinesalite (npm) and moto's server (PyPI).

Each server is started on 127.0.0.1 on a free port, waited for until it accepts connections, and
stopped by its process handle. kinesalite is installed from npm into a folder the caller names (the
test suite uses ``.cache/kinesalite``, which git ignores) when it is not there yet. Its CLI would listen
on every interface, so it is started from a two-line script bound to 127.0.0.1 instead (DESIGN §9).
``install_npm_package`` is that installer for any npm package at a pinned version; the tests also use
it for the AWS SDK for JavaScript (``@aws-sdk/client-kinesis``, into ``.cache/aws-sdk-js``).

    with start_kinesalite(Path(".cache/kinesalite")) as server:
        boto3.client("kinesis", endpoint_url=server.endpoint_url, ...)
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from .errors import KinsimError

__all__ = [
    "KINESALITE_VERSION",
    "ServerError",
    "LocalServer",
    "free_port",
    "start_server",
    "install_npm_package",
    "install_kinesalite",
    "start_kinesalite",
    "start_moto_server",
]

KINESALITE_VERSION = "3.3.3"
HOST = "127.0.0.1"

_START_SCRIPT = """\
require('kinesalite')({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100})
  .listen(parseInt(process.argv[2], 10), '127.0.0.1')
"""


class ServerError(KinsimError):
    """A local server could not be installed or started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class LocalServer:
    """A server process listening on 127.0.0.1:``port``; a context manager that stops it."""

    def __init__(self, name: str, process: subprocess.Popen, port: int) -> None:
        self.name = name
        self.process = process
        self.port = port

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{self.name} at {self.endpoint_url}>"


def start_server(name: str, command: Sequence[str], port: int, timeout: float,
                 cwd: Optional[Path] = None) -> LocalServer:
    """Run ``command`` and wait until something listens on 127.0.0.1:``port``."""
    # what the server writes goes to a file nobody has to drain: moto's server logs every request, and a
    # pipe left unread fills after a thousand or so and stops the server mid-answer
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(list(command), cwd=cwd, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log)
        except OSError as exc:
            raise ServerError(f"cannot start {name}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                detail = log.read().decode("utf-8", "replace").strip()
                raise ServerError(f"{name} exited with status {process.returncode}: {detail[-2000:]}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    return LocalServer(name, process, port)
            except OSError:
                time.sleep(0.05)
        process.kill()
        process.wait()
    raise ServerError(f"{name} did not listen on {HOST}:{port} within {timeout:.0f} s")


def _installed_version(folder: Path, package: str) -> Optional[str]:
    manifest = folder.joinpath("node_modules", *package.split("/"), "package.json")
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


def install_npm_package(folder: Path, package: str, version: str, timeout: float = 300.0) -> Path:
    """Install ``package@version`` from npm into ``folder`` unless that version is there already;
    returns the package's own folder, ``folder/node_modules/<package>``."""
    folder = Path(folder).resolve()
    spec = f"{package}@{version}"
    if _installed_version(folder, package) != version:
        npm = shutil.which("npm")
        if npm is None:
            raise ServerError(f"{package} needs node and npm, and npm is not on PATH")
        folder.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error",
                   "--save-exact", spec]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerError(f"npm install {spec} failed: {exc}") from exc
        if done.returncode != 0 or _installed_version(folder, package) != version:
            detail = done.stderr.decode("utf-8", "replace").strip()[-2000:]
            raise ServerError(f"npm install {spec} failed: {detail}")
    return folder.joinpath("node_modules", *package.split("/"))


def install_kinesalite(folder: Path, timeout: float = 300.0) -> Path:
    """Install kinesalite into ``folder`` from npm unless that version is there; returns its start script."""
    folder = Path(folder).resolve()
    install_npm_package(folder, "kinesalite", KINESALITE_VERSION, timeout)
    script = folder / "start-loopback.js"
    if not script.exists() or script.read_text(encoding="utf-8") != _START_SCRIPT:
        script.write_text(_START_SCRIPT, encoding="utf-8")
    return script


def start_kinesalite(folder: Path, timeout: float = 20.0) -> LocalServer:
    """kinesalite on 127.0.0.1, installed into ``folder`` first if needed."""
    node = shutil.which("node")
    if node is None:
        raise ServerError("kinesalite needs node, and node is not on PATH")
    script = install_kinesalite(folder)
    port = free_port()
    return start_server("kinesalite", [node, str(script), str(port)], port, timeout, cwd=script.parent)


def start_moto_server(timeout: float = 30.0) -> LocalServer:
    """moto's server (``moto[server]``) on 127.0.0.1."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    return start_server("moto server", command, port, timeout)
