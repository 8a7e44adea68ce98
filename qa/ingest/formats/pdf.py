"""PDF with pypdf: the text of each page, pages joined by a blank line; a page with no text but
an image is a scan, read by OCR (qa/ingest/formats/ocr.py). Sections come from the PDF's outline
(its bookmarks, which Word, LaTeX and browsers write from the headings): each entry found on its
page opens a section there and ends the sentence before it. Without an outline, the lines set
larger than the body text are the headings (pypdf reports each run's size as it extracts the
text; on a scanned page, Tesseract each line's word height). The date: a date line or a dated
title near the top of the text, else the PDF's metadata (creation date). Encrypted files open when
their password is empty (AES needs the cryptography package, a dependency); otherwise they are
refused by name.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from qa.errors import DocumentError
from qa.ingest.dating import text_date
from qa.ingest.formats import ocr
from qa.ingest.formats.text import make_title
from qa.ingest.sections import Sections, heading_paths
from qa.types import PDF_METADATA, Document

PAGE_SEPARATOR = "\n\n"
ENCRYPTED = "encrypted PDF (a password is needed to open it) — save a copy without the password (qpdf --decrypt) and index that"


def _open(data: bytes, name: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name}: {ENCRYPTED}")
    except DependencyError as exc:
        raise DocumentError(f"{name}: encrypted PDF needing AES support — pip install 'pypdf[crypto]'") from exc
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed files
        raise DocumentError(f"{name}: unreadable PDF ({type(exc).__name__}) — re-export it or remove it") from exc
    return reader


Sized = list[tuple[int, int, float]]  # (start, end, type size in points) of a page's text runs
Heading = tuple[int, int, int, str]  # (start, end) in the document's text, level, title


def _page_texts(reader: Any, name: str) -> tuple[list[str], tuple[int, ...], list[Sized]]:
    """Each page's text, the 1-based pages whose text came from OCR, and each page's runs of text
    with the size they are set in (points; for a scanned page, each line's height in pixels)."""
    texts: list[str] = []
    scanned: list[int] = []
    sizes: list[Sized] = []
    try:
        for number, page in enumerate(reader.pages, 1):
            runs: list[tuple[str, float]] = []
            text = page.extract_text(visitor_text=_collect(runs)) or ""
            if not text.strip() and ocr.has_images(page):
                text, lines = ocr.read_page(page, name, number)
                scanned.append(number)
                sizes.append(lines)
            else:
                sizes.append(_runs_in(text, runs))
            texts.append(text)
    except DocumentError:
        raise
    except Exception as exc:  # as in _open: a damaged page stream
        raise DocumentError(f"{name}: unreadable PDF ({type(exc).__name__}) — re-export it or remove it") from exc
    return texts, tuple(scanned), sizes


def _collect(runs: list[tuple[str, float]]) -> Any:
    """A pypdf text visitor that appends each run of text with its size to `runs`."""

    def visit(text: str, cm: Any, tm: Any, _font: Any, size: Any) -> None:
        runs.append((text, _points(size, cm, tm)))

    return visit


def _points(size: Any, cm: Any, tm: Any) -> float:
    """The height text is set at: the font size scaled by the text and graphics matrices."""
    try:
        return abs(float(size)) * math.hypot(float(tm[2]), float(tm[3])) * math.hypot(float(cm[2]), float(cm[3]))
    except (TypeError, ValueError, IndexError):
        return 0.0


def _runs_in(text: str, runs: list[tuple[str, float]]) -> Sized:
    """Where each run with words stands in the page's text (found in order), with its size."""
    out: Sized = []
    at = 0
    for piece, size in runs:
        if not piece.strip() or size <= 0:
            continue
        found = text.find(piece, at)
        if found < 0:
            continue
        out.append((found, found + len(piece), size))
        at = found + len(piece)
    return out


_TITLE_WORDS = 12


def _first_title(full: str, headings: list[Heading]) -> str:
    """The first heading when it opens the text; else the first line, when it reads as a title (a
    manual's "Libtasn1" above its table of contents, not its first chapter "1 Introduction"); else
    the first heading, else the text."""
    top = len(full) - len(full.lstrip())
    if headings and headings[0][0] <= top:
        return headings[0][3]
    first = full.lstrip().split("\n", 1)[0].strip()
    if first and len(first.split()) <= _TITLE_WORDS and first[-1] not in ".,;:!?":
        return first
    return headings[0][3] if headings else full


def _metadata_title(reader: Any) -> str:
    try:
        meta = reader.metadata
        return str(meta.title or "") if meta is not None else ""
    except (ValueError, TypeError, KeyError):
        return ""


def _metadata_date(reader: Any) -> dt.date | None:
    try:
        meta = reader.metadata
        when = meta.creation_date if meta is not None else None
    except (ValueError, TypeError, KeyError):  # a malformed D:... string
        return None
    return when.date() if isinstance(when, dt.datetime) else None


HEADING_RATIO = 1.15  # a line set this much larger than the body text is a heading
OCR_HEADING_RATIO = 1.3  # on a scan: Tesseract's word heights vary with the letters (x-height, capitals)
MAX_HEADING_CHARS = 150
MAX_HEADING_SHARE = 0.3  # of the characters: more set large, and large is not a heading
MAX_OUTLINE = 2000  # entries: a longer outline is an index, not headings


def _outline(reader: Any) -> list[tuple[int, int, str]]:
    """(depth, page index, title) of each outline entry, in reading order; [] when there is none
    or it cannot be read."""
    out: list[tuple[int, int, str]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if len(out) >= MAX_OUTLINE:
                return
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            page = reader.get_destination_page_number(item)
            title = " ".join(str(item.title or "").split())
            if title and page is not None and page >= 0:
                out.append((depth, page, title))

    try:
        walk(reader.outline, 1)
    except Exception:  # pypdf raises many types on a damaged outline: the text stands without it
        return []
    return out


def _headings(outline: list[tuple[int, int, str]], texts: list[str], starts: list[int]) -> list[Heading]:
    """Each outline entry found on its page at a line's start: its span, level and title as the
    page writes it; entries are looked for in order, whitespace aside (a heading may wrap)."""
    out: list[Heading] = []
    page_at = (-1, 0)  # where on which page the previous heading was found
    for depth, page, title in outline:
        if page >= len(texts):
            continue
        pattern = r"\s*".join(re.escape(c) for c in title.replace(" ", ""))
        begin = page_at[1] if page == page_at[0] else 0
        m = re.search(pattern, texts[page][begin:]) if pattern else None
        if m is None:
            continue
        at = begin + m.start()
        line = texts[page].rfind("\n", 0, at) + 1
        if texts[page][line:at].strip():  # not at a line's start: a mention in running text
            continue
        out.append((starts[page] + line, starts[page] + begin + m.end(), depth, " ".join(m.group().split())))
        page_at = (page, begin + m.end())
    return out


def _line_sizes(text: str, runs: Sized) -> Iterator[tuple[int, int, float]]:
    """(start, end, size) of each line of a page: the size most of its characters are set in (0
    when none is known). `runs` are in text order, so each is looked at for its own lines only."""
    first = 0
    for m in re.finditer(r"[^\n]+", text):
        while first < len(runs) and runs[first][1] <= m.start():
            first += 1
        inside: Counter[float] = Counter()
        for a, b, size in runs[first:]:
            if a >= m.end():
                break
            inside[round(size, 1)] += min(b, m.end()) - max(a, m.start())
        yield m.start(), m.end(), inside.most_common(1)[0][0] if inside else 0.0


def _set_larger(texts: list[str], sizes: list[Sized], starts: list[int], ratio: float = HEADING_RATIO) -> list[Heading]:
    """The lines set larger than the body text (its commonest size) by
    `ratio`: a PDF without an outline still has its headings. A heading wrapped over lines of
    one size is one heading; the largest size is level 1. None when such lines are not rare (a
    poster: everything is large)."""
    weight: Counter[float] = Counter()
    for runs in sizes:
        for a, b, size in runs:
            weight[round(size, 1)] += b - a
    if not weight:
        return []
    body = weight.most_common(1)[0][0]
    found: list[tuple[int, int, float, str]] = []  # (start, end, size, title)
    for page, (text, runs) in enumerate(zip(texts, sizes, strict=True)):
        previous_end = -2
        for a, b, size in _line_sizes(text, runs):
            words = text[a:b].strip()
            if size < body * ratio or len(words) > MAX_HEADING_CHARS:
                continue
            if found and previous_end == a - 1 and found[-1][2] == size:  # the heading's next line
                at, _, _, title = found[-1]
                found[-1] = (at, starts[page] + b, size, f"{title} {words}")
            elif any(c.isalpha() for c in words):
                found.append((starts[page] + a, starts[page] + b, size, words))
            previous_end = b
    if not found or sum(len(t) for *_, t in found) > MAX_HEADING_SHARE * sum(weight.values()):
        return []
    levels = {size: n for n, size in enumerate(sorted({s for _, _, s, _ in found}, reverse=True), start=1)}
    return [(a, b, levels[size], title) for a, b, size, title in found]


def _sized_headings(texts: list[str], sizes: list[Sized], starts: list[int], scanned: tuple[int, ...]) -> list[Heading]:
    """The headings by size, of the text pages (in points) and of the scanned ones (in pixels) apart."""
    text_pages = [[] if n in scanned else runs for n, runs in enumerate(sizes, start=1)]
    scan_pages = [runs if n in scanned else [] for n, runs in enumerate(sizes, start=1)]
    return sorted(_set_larger(texts, text_pages, starts) + _set_larger(texts, scan_pages, starts, OCR_HEADING_RATIO))


def load(data: bytes, name: str) -> Document:
    reader = _open(data, name)
    texts, scanned, sizes = _page_texts(reader, name)
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    full = PAGE_SEPARATOR.join(texts)
    date, source = text_date(full)
    if date is None:
        date, source = _metadata_date(reader), PDF_METADATA
    headings = _headings(_outline(reader), texts, starts) or _sized_headings(texts, sizes, starts, scanned)
    sections: Sections = heading_paths((a, level, t) for a, _, level, t in headings) if headings else ()
    line_ends = [full.find("\n", b) for _, b, _, _ in headings]  # a heading ends the sentence before and after it
    breaks = tuple(sorted({a for a, *_ in headings if a > 0} | {e + 1 for e in line_ends if e > 0}))
    title = make_title(_metadata_title(reader) or _first_title(full, headings))
    return Document(
        name, full, date, title, pages=tuple(starts), date_source=source if date else "", ocr_pages=scanned,
        sections=sections, breaks=breaks,
    )  # fmt: skip
