"""amazon-kclpy's pure-Python modules, importable for tests without installing the package.

``pip download --no-deps --no-binary :all: amazon-kclpy==3.2.0`` fetches the sdist into the ignored
``.cache/kclpy``; only its ``amazon_kclpy/`` and ``samples/`` folders are unpacked, and that folder goes on
``sys.path``. Nothing is installed and the sdist's jar download (its ``install``/``download_jars``
commands) never runs; pip itself does ask the sdist's build backend for its metadata when downloading.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.0"
NAME = f"amazon_kclpy-{VERSION}"


class SdistUnavailable(Exception):
    pass


def unpacked(cache: Path) -> Path:
    """The folder holding ``amazon_kclpy/`` and ``samples/``, downloaded and unpacked on first use."""
    target = cache / NAME
    if (target / "amazon_kclpy" / "kcl.py").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"{NAME}.tar.gz"
    if not sdist.is_file():
        try:
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                   f"amazon-kclpy=={VERSION}", "-d", str(cache)],
                                  capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SdistUnavailable(f"pip download failed: {exc}") from exc
        if done.returncode != 0 or not sdist.is_file():
            raise SdistUnavailable(f"pip download failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        try:
            with tarfile.open(sdist) as tar:
                wanted = [m for m in tar.getmembers()
                          if m.name.startswith((f"{NAME}/amazon_kclpy/", f"{NAME}/samples/"))
                          and ".." not in Path(m.name).parts and (m.isfile() or m.isdir())]
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12
                tar.extractall(tmp, members=wanted, **safe)
        except (tarfile.TarError, OSError) as exc:
            raise SdistUnavailable(f"cannot unpack {sdist}: {exc}") from exc
        shutil.rmtree(target, ignore_errors=True)
        Path(tmp, NAME).rename(target)
    if not (target / "amazon_kclpy" / "kcl.py").is_file():
        raise SdistUnavailable(f"{sdist} has no amazon_kclpy/kcl.py")
    return target


def importable(cache: Path) -> Path:
    """Put the unpacked sdist on ``sys.path`` (once) and check ``amazon_kclpy.kcl`` imports."""
    folder = unpacked(cache)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    import amazon_kclpy.kcl  # noqa: F401  (standard library only)
    import amazon_kclpy.v3.processor  # noqa: F401
    return folder
