"""The command line, run as a user runs it."""

import subprocess
import sys

import kinsim


def run(*args):
    return subprocess.run([sys.executable, "-m", "kinsim", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_the_commands():
    done = run("--help")
    assert done.returncode == 0
    assert "usage: python -m kinsim" in done.stdout


def test_version():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"kinsim {kinsim.__version__}"


def test_an_unknown_command_is_exit_status_2_without_a_traceback():
    done = run("fly")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
