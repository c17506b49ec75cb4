"""Reading a CSV file that another program wrote: its encoding, its delimiter, its header.

Gym software exports in all sorts of ways (Excel on Windows writes cp1252 or UTF-16, some tools
use semicolons or tabs), so the layout is detected once at upload, stored on the job, and every
later step reads the file the same way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CANDIDATE_DELIMITERS = ",;\t|"
_SNIFF_SAMPLE_CHARS = 64 * 1024
# Files people pick by mistake; checked by content, never by name.
_BINARY_SIGNATURES = (
    b"PK\x03\x04",  # xlsx, ods, zip
    b"\xd0\xcf\x11\xe0",  # xls, old Office files
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",  # jpeg
    b"GIF8",
    b"\x1f\x8b",  # gzip
)


@dataclass(frozen=True)
class CsvLayout:
    encoding: str
    delimiter: str
    headers: list[str]


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _encoding_of(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if content.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    # Excel on Windows writes cp1252: latin-1 plus "€" and curly quotes where latin-1 has
    # control characters. latin-1 decodes any byte, so it is the last resort.
    try:
        content.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def csv_text(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _file_error(_("The file could not be read as text.")) from exc


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _delimiter_of(text: str) -> str:
    sample = text[:_SNIFF_SAMPLE_CHARS]
    if len(text) > _SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter and _column_count(sample, delimiter) > 1:
        return delimiter
    # The sniffer gives up on files with few rows or many empty cells: take the candidate
    # that splits the first lines into the most columns.
    counts = {candidate: _column_count(sample, candidate) for candidate in CANDIDATE_DELIMITERS}
    return max(counts, key=lambda candidate: counts[candidate])


def _column_count(sample: str, delimiter: str) -> int:
    try:
        widths = [len(record) for record in islice(_reader(sample, delimiter), 20)]
    except csv.Error:
        return 0
    widths = [width for width in widths if width > 1]
    return min(widths) if widths else 0


def _unique_headers(raw: list[str]) -> list[str]:
    headers: list[str] = []
    for position, name in enumerate(raw, start=1):
        name = re.sub(r"\s+", " ", name).strip() or _("Column %(number)s") % {"number": position}
        candidate, suffix = name, 2
        while candidate in headers:
            candidate, suffix = f"{name} ({suffix})", suffix + 1
        headers.append(candidate)
    return headers


def csv_layout_detect(content: bytes) -> CsvLayout:
    """Encoding, delimiter and header of an uploaded file, or ValidationError on "file" with a
    message a person can act on."""
    if not content.strip():
        raise _file_error(_("The file is empty."))
    if content.startswith(_BINARY_SIGNATURES):
        raise _file_error(
            _("This is not a CSV file. Export your clients as CSV (comma-separated values).")
        )
    encoding = _encoding_of(content)
    if encoding != "utf-16" and b"\x00" in content[:8192]:
        raise _file_error(
            _("This is not a CSV file. Export your clients as CSV (comma-separated values).")
        )
    text = csv_text(content, encoding)
    delimiter = _delimiter_of(text)
    records = csv_records(text, delimiter)
    first = next(records, None)
    header = first[1] if first is not None else []
    if len(header) < 2:
        raise _file_error(
            _(
                "No columns found. The first line of the file must name the columns "
                "(First name, Email, …), separated by commas or semicolons."
            )
        )
    if next(records, None) is None:
        raise _file_error(_("The file has a header but no clients."))
    return CsvLayout(encoding=encoding, delimiter=delimiter, headers=_unique_headers(header))


def csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank record of the file with its row number as a spreadsheet shows it (the
    header is row 1). A malformed file is a ValidationError naming the line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                yield number, record
    except csv.Error as exc:
        raise _file_error(
            _("Line %(line)s of the file could not be read: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
