"""The report of a run: JSON exactly as DESIGN §8 (plus late-record detail), readable text, or the
per-window rows as CSV for a spreadsheet.

The JSON holds no wall-clock value, so the same scenario and seed give byte-identical output. Times
are UTC with a ``Z``; ``rows`` has one entry per (window, key) with truth or a count, sorted by window
start then key, ``count`` being the counter's last reported value (0 if none).

Every report is written to its output as it is made (``write_json``, ``write_text``, ``write_csv``): a run with
a million cells never holds its report whole, as rows of dictionaries or as one string. The JSON is
byte for byte what ``json.dumps(report_dict(result), indent=2, ensure_ascii=False)`` gives.
"""

from .as_csv import to_csv, write_csv
from .as_json import report_dict, to_json, write_json
from .as_text import to_text, write_text
from .base import utc_text

__all__ = ["report_dict", "to_csv", "to_json", "to_text", "utc_text", "write_csv", "write_json", "write_text"]
