"""Every error kinsim raises, under one root.

    KinsimError
    ├── KinesisError                     a Kinesis API error; ``code`` is the real API's error code
    │   ├── ResourceNotFoundException
    │   ├── ResourceInUseException
    │   ├── InvalidArgumentException
    │   ├── ValidationException          a parameter broke the API's shape constraints
    │   ├── LimitExceededException
    │   ├── ProvisionedThroughputExceededException
    │   └── ExpiredIteratorException
    ├── BackendError                     the service cannot be reached or used (no credentials,
    │   │                                no region, connection refused)
    │   └── AnswerLostError              a call got no answer (a timeout, a dropped connection, a
    │                                    5xx): it may or may not have taken effect
    ├── StreamNotOwnedError              kinsim will not write into a stream it did not create
    └── ScenarioError                    a bad scenario file (file, key path, what is wrong)

The Kinesis classes are named exactly after the API's error codes, so the boto3-shaped client and the
boto3 backend map them by name and nothing is lost at the border.
"""

from __future__ import annotations

__all__ = [
    "KinsimError",
    "KinesisError",
    "ResourceNotFoundException",
    "ResourceInUseException",
    "InvalidArgumentException",
    "ValidationException",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "ExpiredIteratorException",
    "BackendError",
    "AnswerLostError",
    "StreamNotOwnedError",
    "FaultError",
    "StalledError",
    "ScenarioError",
    "MissingExtraError",
    "kinesis_error",
    "one_line",
]


class KinsimError(Exception):
    """Root of every kinsim error."""


class KinesisError(KinsimError):
    """A Kinesis API error. ``code`` is the API's error code, ``message`` its text."""

    code = "KinesisError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ResourceNotFoundException(KinesisError):
    code = "ResourceNotFoundException"


class ResourceInUseException(KinesisError):
    code = "ResourceInUseException"


class InvalidArgumentException(KinesisError):
    code = "InvalidArgumentException"


class ValidationException(KinesisError):
    code = "ValidationException"


class LimitExceededException(KinesisError):
    code = "LimitExceededException"


class ProvisionedThroughputExceededException(KinesisError):
    code = "ProvisionedThroughputExceededException"


class ExpiredIteratorException(KinesisError):
    code = "ExpiredIteratorException"


_BY_CODE = {
    cls.code: cls
    for cls in (
        ResourceNotFoundException,
        ResourceInUseException,
        InvalidArgumentException,
        ValidationException,
        LimitExceededException,
        ProvisionedThroughputExceededException,
        ExpiredIteratorException,
    )
}


def kinesis_error(code: str, message: str) -> KinesisError:
    """The kinsim error for an API error code; an unknown code keeps its code on a plain KinesisError."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    error = KinesisError(message)
    error.code = code
    return error


class BackendError(KinsimError):
    """The Kinesis service could not be reached or used; the message says why."""


class AnswerLostError(BackendError):
    """A call whose answer was lost: it may or may not have taken effect, so sending it again may do it
    twice. ``operation`` names the call; ``code`` is the service's error code when it sent one."""

    def __init__(self, operation: str, detail: str, code: str = "") -> None:
        super().__init__(f"{operation} got no answer: {detail}")
        self.operation = operation
        self.code = code


class StreamNotOwnedError(KinsimError):
    """The stream exists and kinsim did not create it: writing into it needs an explicit yes."""

    def __init__(self, stream_name: str) -> None:
        self.stream_name = stream_name
        super().__init__(f"stream {stream_name} already exists and kinsim did not create it; "
                         "pass --use-existing-stream to write into it anyway")


class FaultError(KinsimError):
    """A scripted fault could not be applied during the run (a shard that does not exist at that moment
    on a real stream, a throttle a real stream cannot take): names the fault and says why."""


class StalledError(KinsimError):
    """A run whose input can never end: every record was created, yet for a long stretch of simulated
    time no processor was given any, and shards are still unread (say, a processor that never
    checkpoints at a shard's end, so that the children never start)."""


class ScenarioError(KinsimError):
    """A scenario file that cannot be used: names the file, the key path and what is wrong, in one line
    (control characters escaped, each part cut short), whatever the file holds."""

    def __init__(self, path: str, key_path: str, problem: str) -> None:
        self.path = path
        self.key_path = key_path
        self.problem = problem
        where = one_line(str(path), 200)
        if key_path:
            where += ": " + one_line(key_path, 120)
        super().__init__(f"{where}: {one_line(problem, 300)}")


class MissingExtraError(KinsimError):
    """A feature whose optional dependencies are not installed (``kinsim[plot]``, ``kinsim[dask]``): says
    which command installs them."""


def one_line(text: str, most: int = 500) -> str:
    """``text`` with anything unprintable escaped (a NUL or a newline never splits a message), and cut to
    at most ``most`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                       for c in text)
    return text if len(text) <= most else text[:most - 3] + "..."
