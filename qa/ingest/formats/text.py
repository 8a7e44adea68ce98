"""Plain text, kept byte for byte: a news header " date YYYY-MM-DD " or a date line dates it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath

from qa.ingest.dating import text_date
from qa.ingest.sections import PROSE_WORDS, heading_paths, titles
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


_UNDERLINE = re.compile(r"([=\-~^\"'`#*+_])\1{2,}[ \t]*")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")
HEADING_WORDS = 12


def underlined_headings(text: str) -> list[tuple[int, int, str]]:
    """(offset, level, title) of each heading underlined the reStructuredText way ("Usage" over
    "=====", perhaps with the same line above it too), after a blank line, the underline at least
    as long as the title less two; levels in the order each style first appears, as
    reStructuredText reads them. Plain-text notes and READMEs head their parts so."""
    lines = [(m.start(), m.group().rstrip("\r\n")) for m in _LINE.finditer(text) if m.group()]
    styles: list[tuple[str, bool]] = []
    out = []
    for i in range(1, len(lines) - 1):
        (at, title), (_, under), (_, above) = lines[i], lines[i + 1], lines[i - 1]
        words = title.strip()
        if not (m := _UNDERLINE.fullmatch(under)) or not words or _UNDERLINE.fullmatch(title) or title[0].isspace():
            continue
        overlined = above.strip() == under.strip()
        blank_before = i < 2 or not lines[i - 2][1].strip() if overlined else not above.strip()
        if not blank_before or len(under.strip()) < len(words) - 2 or len(words.split()) > HEADING_WORDS:
            continue
        style = (m.group(1), overlined)
        if style not in styles:
            styles.append(style)
        out.append((lines[i - 1][0] if overlined else at, styles.index(style) + 1, words))
    return out


def load(text: str, name: str) -> Document:
    date, start = parse_header_date(text)
    source = HEADER if date else ""
    if date is None:
        date, source = text_date(text)
    headings = [h for h in underlined_headings(text) if h[0] >= start]
    return Document(
        name, text, date, _title(text[start:], headings, start, name), date_source=source, body_start=start,
        sections=heading_paths(headings) if headings else (),
    )  # fmt: skip


_MARKUP = ("..", "|", ":", "[", "<", "http")  # a reStructuredText README's badges and directives


def _title(body: str, headings: list[tuple[int, int, str]], start: int, name: str) -> str:
    """The first underlined heading when it is the one heading of its level and no prose stands
    above it ("pytest-timeout" between its rules); else the first line; else, when that line is
    a README's badges or directives, the file's name."""
    if titles(headings):
        above = body[: headings[0][0] - start].splitlines()
        if not any(len(line.split()) >= PROSE_WORDS and not line.lstrip().startswith(_MARKUP) for line in above):
            return headings[0][2]
    first = make_title(body)
    return PurePosixPath(name).stem if not first or first.startswith(_MARKUP) else first
