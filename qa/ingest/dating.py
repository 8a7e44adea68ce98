"""A document's date and where it came from: a header, front matter, HTML or PDF metadata, a
date line near the top ("Date: 2023-06-01", "Published 4 May 2023"), a whole date in the title
line ("Board minutes, 12 March 2024"), a date in the file's name ("outage-2024-02-07.md"), else the
file's time.

Each loader asks for the sources its format has, most trusted first; `load_document` falls back
to the file's name, then to the modification time, labelled "file date" (it says when the file was
saved or copied: on a fresh checkout or a copied folder, that is today for every file).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from qa.types import DATE_LINE, TITLE

# "Date: 2023-06-01", "Published 4 May 2023", "*Updated on: June 4, 2023*", "> Dated 2023/06/01".
_DATE_LINE = re.compile(
    r"^[ \t>#*_|-]*(?:date[d]?|published|posted|updated|last\s+updated|publication\s+date|written)"
    r"(?:\s+(?:on|at))?[ \t]*[:\-–—]?[ \t]*(?P<when>[^\r\n]{6,40}?)[ \t*_|]*$",
    re.IGNORECASE | re.MULTILINE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# A whole calendar day written in a title: "12 March 2024", "March 12, 2024", "2024-03-12".
_WHOLE_DAY = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
# A date in a file's name: 2024-02-07, 2024_02_07 or 2024.02.07 (eight digits alone may be anything).
_NAME_DAY = re.compile(r"(?<!\d)(\d{4})([-_.])(\d{2})\2(\d{2})(?!\d)")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?")
_YEAR = re.compile(r"\b\d{4}\b")
LINES_NEAR_TOP = 12  # a date line further down is about something else (an event, a deadline)
CHARS_NEAR_TOP = 2000
WRAPPED_TITLE_TAIL = 40  # characters: a second line this short ends the title or is its byline


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


def title_date(text: str, start: int = 0) -> dt.date | None:
    """The first whole calendar day named in the first line of text[start:] with any text, its
    title: "Harbour Rowing Club — board minutes, 12 March 2024". A short second line counts as the
    title's end (a PDF wraps a large heading: "... 12 March" / "2024") or its byline ("By Anna Berg,
    12 March 2024"). A month alone ("June 2023") is no document's date."""
    lines = [m.group().strip() for m in re.finditer(r"[^\r\n]*\S[^\r\n]*", text[start : start + CHARS_NEAR_TOP])][:2]
    if not lines:
        return None
    title = " ".join(lines) if len(lines) == 2 and len(lines[1]) <= WRAPPED_TITLE_TAIL else lines[0]
    return next((day for m in _WHOLE_DAY.finditer(title) if (day := parse_date(m.group().rstrip(",")))), None)


def text_date(text: str, start: int = 0) -> tuple[dt.date | None, str]:
    """(date, source) from the text itself: a date line near the top, else the title line's date."""
    date = date_line(text, start)
    if date is not None:
        return date, DATE_LINE
    date = title_date(text, start)
    return date, (TITLE if date else "")


def name_date(name: str) -> dt.date | None:
    """A date written in a file's relative path ("outage-2024-02-07.md", "meetings/2024-03-12/notes.md"),
    the last one (the file's own name before its folders')."""
    for m in reversed(list(_NAME_DAY.finditer(name))):
        try:
            return dt.date(int(m[1]), int(m[3]), int(m[4]))
        except ValueError:
            continue
    return None


def file_date(mtime: float) -> dt.date:
    """The day a file was last modified, in local time."""
    return dt.datetime.fromtimestamp(mtime).date()
