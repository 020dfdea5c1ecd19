"""Shared fixtures: clocks and backends in two lines, and the real Kinesis servers on loopback.

kinesalite and moto's server are started by the tests themselves on 127.0.0.1 (kinesalite installed
from npm into the ignored ``.cache/kinesalite`` when missing), and amazon-kclpy's pure-Python modules are
unpacked from its sdist into ``.cache/kclpy``. Clients nobody here wrote: ``js_sdk`` installs the AWS
SDK for JavaScript (``@aws-sdk/client-kinesis``) from npm into ``.cache/aws-sdk-js``, and ``aws_cli`` is
the ``aws`` command on PATH (``tests/clients``). Where any of these cannot start, be fetched or be
found, their tests skip on a developer's machine and fail under ``CI=true``. No test talks to AWS:
tests marked ``aws`` run only with ``--aws``.

The suite runs on every core (pytest-xdist, ``-n auto`` in setup.cfg; one file, or ``--pdb``, runs in
one process: ``pytest_xdist_auto_num_workers``). Each worker starts its own servers on free ports when
a test first needs one; what is installed into ``.cache`` is installed by one worker while the others
wait (a file lock per folder, ``.cache/NAME.lock``), and so is a server's port taken and listened on.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from filelock import FileLock

import kinsim
from kinsim.clock import ManualClock
from kinsim.records import IteratorType
from kinsim.servers import ServerError, install_kinesalite, start_kinesalite, start_moto_server
from tests import clients
from tests.kclpy_sdist import SdistUnavailable, importable

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
START = 1_533_074_160.0  # 2018-07-31T21:56:00Z, the tutorial's first minute

# Never let a test find real credentials or a real region by accident.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "kinsim-test"
os.environ["AWS_SECRET_ACCESS_KEY"] = "kinsim-test"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def pytest_addoption(parser):
    parser.addoption("--aws", action="store_true", default=False,
                     help="also run tests marked 'aws', which talk to real AWS with your credentials")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """How many workers ``-n auto`` starts: xdist's answer (the cores, or PYTEST_XDIST_AUTO_NUM_WORKERS)
    for the suite or several files; none (one process, as without xdist) for one file or less, where
    starting workers costs more than it saves, and under ``--pdb`` or ``--trace``."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    if config.getoption("usepdb") or config.getoption("trace"):
        return 0
    files = {str(arg).split("::")[0] for arg in config.args}
    if len(files) <= 1 and all(Path(file).is_file() for file in files):
        return 0
    return None


def pytest_collection_modifyitems(config, items):
    if config.getoption("--aws"):
        return
    skip = pytest.mark.skip(reason="talks to real AWS: opt in with --aws")
    for item in items:
        if "aws" in item.keywords:
            item.add_marker(skip)


def read_back(backend: kinsim.MemoryBackend) -> dict[str, list]:
    """Every shard of the backend's one stream, its records in order (``Record``s), read back whole from
    the kept simulated shards without spending a run's read budget."""
    backend.throttling = False
    name, shards = backend.list_streams()[0], {}
    for shard in backend.list_shards(name):
        iterator, records = backend.get_shard_iterator(name, shard.shard_id, IteratorType.TRIM_HORIZON), []
        while iterator is not None:
            batch = backend.get_records(iterator, 10_000)
            records += list(batch.records)
            iterator = batch.next_shard_iterator if batch.records else None
        shards[shard.shard_id] = records
    return shards


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def cache_lock(name: str) -> FileLock:
    """The lock on ``.cache/NAME``: held while a worker installs into it, or starts a server (from a free
    port to listening on it), so that other workers wait rather than install or take that port too."""
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileLock(CACHE / f"{name}.lock")


def _server(start, what: str):
    try:
        return start()
    except (ServerError, clients.ClientError) as exc:
        if in_ci():
            pytest.fail(f"{what} could not start under CI=true: {exc}", pytrace=False)
        pytest.skip(f"{what} could not start: {exc}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def backend(clock) -> kinsim.MemoryBackend:
    return kinsim.MemoryBackend(clock)


@pytest.fixture
def kinesis(backend) -> kinsim.KinesisClient:
    """A boto3-shaped client over simulated shards on a manual clock."""
    return kinsim.client(backend)


def _started_kinesalite():
    with cache_lock("kinesalite"):
        install_kinesalite(CACHE / "kinesalite")
    with cache_lock("ports"):
        return start_kinesalite(CACHE / "kinesalite")


def _started_moto_server():
    with cache_lock("ports"):
        return start_moto_server()


@pytest.fixture(scope="session")
def kinesalite_server():
    """kinesalite for this process (this worker), installed into ``.cache/kinesalite`` first if needed."""
    server = _server(_started_kinesalite, "kinesalite")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_server():
    """moto's server for this process (this worker)."""
    server = _server(_started_moto_server, "moto server")
    yield server
    server.stop()


def loopback_client(endpoint_url: str):
    """boto3 against a server on 127.0.0.1; never retries, so errors show as they come."""
    assert endpoint_url.startswith("http://127.0.0.1:"), endpoint_url
    return boto3.client("kinesis", endpoint_url=endpoint_url, region_name="us-east-1",
                        aws_access_key_id="kinsim-test", aws_secret_access_key="kinsim-test",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@pytest.fixture(scope="session")
def kclpy() -> Path:
    """amazon-kclpy 3.2.0's pure-Python modules on sys.path (the sdist unpacked in ``.cache/kclpy``);
    the folder also holds the sdist's ``samples/``."""
    try:
        with cache_lock("kclpy"):
            return importable(CACHE / "kclpy")
    except (SdistUnavailable, ImportError) as exc:
        if in_ci():
            pytest.fail(f"amazon-kclpy unavailable under CI=true: {exc}", pytrace=False)
        pytest.skip(f"amazon-kclpy unavailable: {exc}")


@pytest.fixture
def kinesalite(kinesalite_server):
    """boto3 against the session's kinesalite."""
    return loopback_client(kinesalite_server.endpoint_url)


class JsSdk:
    """``@aws-sdk/client-kinesis`` installed in ``folder``: ``run(endpoint_url, operations)`` is
    ``tests.clients.run_js`` with it."""

    def __init__(self, folder: Path, version: str) -> None:
        self.folder = folder
        self.version = version

    def run(self, endpoint_url: str, operations: list, **options) -> list:
        return clients.run_js(endpoint_url, operations, sdk_folder=self.folder, **options)


class AwsCli:
    """The ``aws`` command on PATH: ``run(endpoint_url, *args)`` is ``tests.clients.run_aws_cli``."""

    def __init__(self, version: tuple) -> None:
        self.version = version

    def run(self, endpoint_url: str, *args: str, **options):
        return clients.run_aws_cli(endpoint_url, *args, version=self.version, **options)


def _installed_js_sdk() -> JsSdk:
    if shutil.which("node") is None:
        raise ServerError("the AWS SDK for JavaScript needs node, and node is not on PATH")
    with cache_lock("aws-sdk-js"):
        return JsSdk(clients.install_js_sdk(), clients.JS_SDK_VERSION)


@pytest.fixture(scope="session")
def js_sdk() -> JsSdk:
    """The AWS SDK for JavaScript v3's Kinesis client, installed once into ``.cache/aws-sdk-js``."""
    return _server(_installed_js_sdk, f"{clients.JS_SDK_PACKAGE}@{clients.JS_SDK_VERSION}")


@pytest.fixture(scope="session")
def aws_cli() -> AwsCli:
    """The AWS CLI on PATH (version 1 or 2)."""
    return _server(lambda: AwsCli(clients.aws_cli_version()), "the AWS CLI")
