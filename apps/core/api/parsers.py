"""DRF's JSON parser, refusing what PostgreSQL or Python cannot take as a clear 400."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any body the API documents; Python's own limit (about a thousand levels) would
# otherwise end the parse in a RecursionError, a 500.
MAX_DEPTH = 32


def _too_deep() -> ParseError:
    return ParseError(_("JSON nested more than %(depth)d levels deep.") % {"depth": MAX_DEPTH})


def _check(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError(_("JSON strings cannot contain the NUL character (\\u0000)."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise _too_deep() from error
        _check(data)
        return data
