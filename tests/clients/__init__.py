"""Kinesis clients nobody here wrote, driven from the tests: the AWS SDK for JavaScript v3 and the AWS CLI.

Both only ever talk to an endpoint on loopback (``http://127.0.0.1:PORT``), with dummy credentials and
no retries, so that what a test sees is the server's own answer.

- ``run_js(endpoint_url, operations)``: one ``node`` process runs every operation in order with
  ``@aws-sdk/client-kinesis`` (installed from npm into ``.cache/aws-sdk-js`` by ``install_js_sdk``) and
  gives back one dict per operation, ``{"ok": response}`` or ``{"error": {"name", "status", "message"}}``.
  Operations are ``{"op": "PutRecord", "params": {...}}`` in the API's own shapes; ``b64(data)`` writes a
  blob, ``ref(i, "ShardIterator")`` a value from operation ``i``'s response (see ``kinesis_js.mjs``).
- ``run_aws_cli(endpoint_url, "kinesis", "describe-stream", ...)``: the ``aws`` command on PATH, with
  ``--endpoint-url``, ``--region us-east-1`` and ``--output json`` put first; returns
  ``(exit status, parsed JSON or text or None, stderr)``.

Blobs on the AWS CLI's command line: version 1 takes a blob argument as raw text (``--data hello``
sends the five bytes of "hello") and ``fileb://PATH`` as the file's bytes; version 2 takes it as base64
unless told ``--cli-binary-format raw-in-base64-out``, which ``run_aws_cli`` adds on version 2 so that
both read blob arguments the same way (raw). In the output, blobs are base64 in both.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from kinsim.servers import install_npm_package

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = Path(__file__).resolve().parent / "kinesis_js.mjs"
JS_SDK_PACKAGE = "@aws-sdk/client-kinesis"
JS_SDK_VERSION = "3.1143.0"
JS_SDK_FOLDER = ROOT / ".cache" / "aws-sdk-js"
DUMMY = "kinsim-test"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

__all__ = ["ClientError", "JS_SDK_VERSION", "install_js_sdk", "run_js", "run_aws_cli", "aws_cli_version",
           "http_statuses", "b64", "unb64", "ref"]


class ClientError(RuntimeError):
    """A client could not be run at all (not: the server answered with an error)."""


def b64(data: bytes) -> dict:
    """A blob in an operation's params for ``run_js``."""
    return {"$b64": base64.b64encode(data).decode("ascii")}


def unb64(value: Any) -> bytes:
    """A blob from ``run_js`` (``{"$b64": ...}``) or from the AWS CLI's JSON output (a base64 string)."""
    return base64.b64decode(value["$b64"] if isinstance(value, dict) else value)


def ref(index: int, *path: Any) -> dict:
    """In ``run_js`` params: the value at ``path`` in the response of operation ``index`` (0-based)."""
    return {"$ref": [index, *path]}


def _loopback_only(endpoint_url: str) -> None:
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
        raise ValueError(f"the foreign clients only talk to loopback, not {endpoint_url!r}")


def _environment(**extra: str) -> dict:
    """This process's environment without anything that could find real credentials, a real profile
    or another Python's modules, and with dummy credentials and no retries."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("AWS_") and name not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(AWS_ACCESS_KEY_ID=DUMMY, AWS_SECRET_ACCESS_KEY=DUMMY, AWS_DEFAULT_REGION="us-east-1",
               AWS_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard", AWS_EC2_METADATA_DISABLED="true",
               AWS_PAGER="")
    env.update(extra)
    return env


# -- the AWS SDK for JavaScript v3 ---------------------------------------------------------------------
def install_js_sdk(folder: Path = JS_SDK_FOLDER, timeout: float = 300.0) -> Path:
    """``@aws-sdk/client-kinesis`` at the pinned version in ``folder`` (npm install unless there);
    raises ``kinsim.servers.ServerError`` when it cannot be installed."""
    install_npm_package(folder, JS_SDK_PACKAGE, JS_SDK_VERSION, timeout)
    return Path(folder).resolve()


def run_js(endpoint_url: str, operations: list[dict], *, sdk_folder: Path = JS_SDK_FOLDER,
           http2: bool = False, stop_unanswered: bool = False, timeout: float = 60.0) -> list[dict]:
    """Run ``operations`` in order in one ``node`` process with the SDK's ``KinesisClient``; one result
    per operation. ``http2`` keeps the SDK's default request handler for Kinesis (HTTP/2) instead of
    HTTP/1.1. ``stop_unanswered``: once an operation gets no HTTP answer at all (status None), the rest
    are not sent, each an error named ``NotSent`` (so a waiter after it does not retry the failing
    connection until its time is up)."""
    _loopback_only(endpoint_url)
    node = shutil.which("node")
    if node is None:
        raise ClientError("node is not on PATH")
    command = [node, str(SCRIPT), endpoint_url] + (["--http2"] if http2 else []) + \
        (["--stop-unanswered"] if stop_unanswered else [])
    env = _environment(KINSIM_AWS_SDK_JS=str(Path(sdk_folder).resolve()), NODE_NO_WARNINGS="1")
    try:
        done = subprocess.run(command, input=json.dumps(operations).encode("utf-8"), capture_output=True,
                              env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClientError(f"node {SCRIPT.name} failed: {exc}") from exc
    stderr = done.stderr.decode("utf-8", "replace").strip()
    lines = done.stdout.decode("utf-8").splitlines()
    if done.returncode != 0 or len(lines) != len(operations):
        raise ClientError(f"node {SCRIPT.name} exited with status {done.returncode} after {len(lines)} of "
                          f"{len(operations)} operations: {stderr[-2000:]}")
    return [json.loads(line) for line in lines]


# -- the AWS CLI ---------------------------------------------------------------------------------------
def aws_cli_version(aws: Optional[str] = None) -> tuple[int, ...]:
    """The version of the ``aws`` on PATH, e.g. (1, 45, 11); raises ``ClientError`` when there is none."""
    aws = aws or shutil.which("aws")
    if aws is None:
        raise ClientError("aws (the AWS CLI) is not on PATH")
    try:
        done = subprocess.run([aws, "--version"], capture_output=True, env=_environment(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClientError(f"aws --version failed: {exc}") from exc
    text = (done.stdout + done.stderr).decode("utf-8", "replace")
    found = re.search(r"aws-cli/(\d+)\.(\d+)\.(\d+)", text)
    if done.returncode != 0 or found is None:
        raise ClientError(f"aws --version failed with status {done.returncode}: {text.strip()[-500:]}")
    return tuple(int(part) for part in found.groups())


def run_aws_cli(endpoint_url: str, *args: str, timeout: float = 60.0,
                version: Optional[tuple[int, ...]] = None) -> tuple[int, Any, str]:
    """``aws --endpoint-url URL --region us-east-1 --output json ... ARGS``: (exit status, stdout parsed
    as JSON, or its text where it is not JSON, or None where it is empty, stderr)."""
    _loopback_only(endpoint_url)
    aws = shutil.which("aws")
    if aws is None:
        raise ClientError("aws (the AWS CLI) is not on PATH")
    version = version or aws_cli_version(aws)
    command = [aws, "--endpoint-url", endpoint_url, "--region", "us-east-1", "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "10"]
    if version[0] >= 2:
        command += ["--cli-binary-format", "raw-in-base64-out"]
    try:
        done = subprocess.run(command + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                              env=_environment(), timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClientError(f"aws {' '.join(args[:2])} failed: {exc}") from exc
    out = done.stdout.decode("utf-8", "replace")
    stderr = done.stderr.decode("utf-8", "replace")
    if not out.strip():
        return done.returncode, None, stderr
    try:
        return done.returncode, json.loads(out), stderr
    except ValueError:
        return done.returncode, out.strip(), stderr


def http_statuses(debug_log: str) -> list[int]:
    """The HTTP statuses of the responses an ``aws --debug`` run logged, in order (urllib3's lines)."""
    return [int(status) for status in re.findall(r'"POST [^"]*" (\d{3}) ', debug_log)]
