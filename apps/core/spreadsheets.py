"""CSV exports opened in a spreadsheet: a cell that starts with one of these is run as a
formula (CSV injection). Names, notes and failed-login emails can come from strangers."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """The cell's text, prefixed with a quote when a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
