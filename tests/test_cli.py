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


def test_a_python_without_a_dependency_is_told_which_and_how_to_install_it():
    hidden = "import runpy, sys; sys.modules['simpy'] = None; sys.argv = ['kinsim', '--version']; " \
             "runpy.run_module('kinsim', run_name='__main__', alter_sys=True)"
    done = subprocess.run([sys.executable, "-c", hidden], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last == (f"ModuleNotFoundError: kinsim needs simpy, which {sys.executable} does not have: "
                    "python -m pip install kinsim (or python -m pip install . in kinsim's folder)")
