"""Word .docx with python-docx: paragraphs and tables in document order, one line each (a
citation's lines count the paragraphs with text, a table row being one), headings as sections.
The date: a date line near the top, else the document's properties (created)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from qa.errors import DocumentError
from qa.ingest.dating import date_line
from qa.ingest.formats.blocks import Block, lay_out
from qa.ingest.formats.text import make_title
from qa.types import DATE_LINE, DOCX_METADATA, Document

_HEADING = re.compile(r"heading (\d)", re.IGNORECASE)


def _blocks(doc: Any) -> Iterator[Block]:
    from docx.table import Table

    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # a merged cell repeats itself
                yield Block(" | ".join(c for c in cells if c))
        else:
            yield Block(item.text, _level(item.style.name if item.style is not None else ""))


def _level(style: str) -> int:
    """1 for the Title style, N + 1 for "Heading N", 0 for body text."""
    if style.lower() == "title":
        return 1
    m = _HEADING.fullmatch(style.strip())
    return int(m.group(1)) + 1 if m else 0


def load(data: bytes, name: str) -> Document:
    import docx

    try:
        word = docx.Document(io.BytesIO(data))
        layout = lay_out(list(_blocks(word)))
        created = word.core_properties.created
    except Exception as exc:  # python-docx raises zip, XML and package errors of many types
        raise DocumentError(f"{name}: unreadable Word file ({type(exc).__name__}) — save it again as .docx") from exc
    date, source = date_line(layout.text), DATE_LINE
    if date is None and created is not None:
        date, source = created.date(), DOCX_METADATA
    title = word.core_properties.title or (layout.sections[1][1] if layout.sections else "") or make_title(layout.text)
    return Document(
        name, layout.text, date, make_title(title), date_source=source if date else "",
        sections=layout.sections, breaks=layout.breaks,
    )  # fmt: skip
