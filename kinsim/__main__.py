"""``python -m kinsim``: the command line."""

import sys

from .cli import main

sys.exit(main(own_process=True))
