"""Plain text, kept byte for byte: a news header " date YYYY-MM-DD " or a date line dates it."""

from __future__ import annotations

import datetime as dt
import re

from qa.ingest.dating import text_date
from qa.types import HEADER, Document

# News samples open with " date YYYY-MM-DD " on the first line, followed by the article.
DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s")
TITLE_CHARS = 120


def parse_header_date(text: str) -> tuple[dt.date | None, int]:
    """(date, offset where the body starts) from a leading ' date YYYY-MM-DD ' header."""
    match = DATE_HEADER.match(text)
    if not match:
        return None, 0
    try:
        return dt.date.fromisoformat(match.group(1)), match.end()
    except ValueError:
        return None, 0


def make_title(text: str) -> str:
    """The first non-blank line, without Markdown's #, cut to TITLE_CHARS."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.lstrip("# ").strip()
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rstrip() + "…"


def load(text: str, name: str) -> Document:
    date, start = parse_header_date(text)
    source = HEADER if date else ""
    if date is None:
        date, source = text_date(text)
    return Document(name, text, date, make_title(text[start:]), date_source=source, body_start=start)
