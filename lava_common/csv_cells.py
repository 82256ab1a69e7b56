"""CSV cells that a spreadsheet opens as text, never as a formula.

Test-case names, suites, units and metadata come from jobs, so anyone who can
submit a job chooses them. Spreadsheets run a cell starting with ``=``, ``+``,
``-`` or ``@`` (and some also after a leading tab or CR) as a formula: such a
text gets a leading ``'``, which spreadsheets read as "this is text". A plain
number (``-1.5``, ``+3e2``) is left alone: it cannot be a formula, and
measurements must stay numbers.
"""

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def inert_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
