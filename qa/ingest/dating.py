"""A document's date and where it came from: a header, front matter, HTML or PDF metadata, a
date line near the top ("Date: 2023-06-01", "Published 4 May 2023"), else the file's time.

Each loader asks for the sources its format has, most trusted first; `load_document` falls back
to the modification time, labelled "file date" (it says when the file was saved or copied).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

# "Date: 2023-06-01", "Published 4 May 2023", "*Updated on: June 4, 2023*", "> Dated 2023/06/01".
_DATE_LINE = re.compile(
    r"^[ \t>#*_|-]*(?:date[d]?|published|posted|updated|last\s+updated|publication\s+date|written)"
    r"(?:\s+(?:on|at))?[ \t]*[:\-–—]?[ \t]*(?P<when>[^\r\n]{6,40}?)[ \t*_|]*$",
    re.IGNORECASE | re.MULTILINE,
)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?")
_YEAR = re.compile(r"\b\d{4}\b")
LINES_NEAR_TOP = 12  # a date line further down is about something else (an event, a deadline)
CHARS_NEAR_TOP = 2000


def parse_date(value: Any) -> dt.date | None:
    """A date from a YAML value, a metadata string ("2023-06-01", "4 May 2023", "D:20230601...")
    or a datetime; None when it names no whole calendar day."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        return None
    text = value.strip()
    iso = _ISO.fullmatch(text)
    if iso:
        try:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    return _dateparser(text)


def _dateparser(text: str) -> dt.date | None:
    """Day, month and year all named ("4 May 2023", "June 4, 2023"), read by dateparser; a
    relative date ("tomorrow", "2 days ago") is no document's date."""
    if not _YEAR.search(text):
        return None
    import dateparser  # imported late: ~0.2 s, only for a document with a written-out date

    try:
        when = dateparser.parse(text, languages=["en"], settings={"STRICT_PARSING": True, "PREFER_DATES_FROM": "past"})
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return when.date() if when else None


def date_line(text: str, start: int = 0) -> dt.date | None:
    """The date of a "Date: ..." or "Published ..." line among the first lines of text[start:]."""
    head = text[start : start + CHARS_NEAR_TOP]
    lines = [m for m in re.finditer(r"[^\r\n]*\S[^\r\n]*", head)][:LINES_NEAR_TOP]
    for line in lines:
        m = _DATE_LINE.fullmatch(line.group())
        if m:
            day = parse_date(m.group("when").strip(" .,"))
            if day:
                return day
    return None


def file_date(mtime: float) -> dt.date:
    """The day a file was last modified, in local time."""
    return dt.datetime.fromtimestamp(mtime).date()
