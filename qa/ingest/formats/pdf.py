"""PDF with pypdf: the text of each page, pages joined by a blank line; a page with no text but
an image is a scan, read by OCR (qa/ingest/formats/ocr.py). The date: a date line near the top
of the text, else the PDF's metadata (creation date). Encrypted files open when their password
is empty (AES needs the cryptography package, a dependency); otherwise they are refused by name.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

from qa.errors import DocumentError
from qa.ingest.dating import date_line
from qa.ingest.formats import ocr
from qa.ingest.formats.text import make_title
from qa.types import DATE_LINE, PDF_METADATA, Document

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


def _page_texts(reader: Any, name: str) -> tuple[list[str], tuple[int, ...]]:
    """Each page's text, and the 1-based pages whose text came from OCR."""
    texts: list[str] = []
    scanned: list[int] = []
    try:
        for number, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            if not text.strip() and ocr.has_images(page):
                text = ocr.read_page(page, name, number)
                scanned.append(number)
            texts.append(text)
    except DocumentError:
        raise
    except Exception as exc:  # as in _open: a damaged page stream
        raise DocumentError(f"{name}: unreadable PDF ({type(exc).__name__}) — re-export it or remove it") from exc
    return texts, tuple(scanned)


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


def load(data: bytes, name: str) -> Document:
    reader = _open(data, name)
    texts, scanned = _page_texts(reader, name)
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    full = PAGE_SEPARATOR.join(texts)
    date, source = date_line(full), DATE_LINE
    if date is None:
        date, source = _metadata_date(reader), PDF_METADATA
    title = make_title(_metadata_title(reader) or full)
    return Document(name, full, date, title, pages=tuple(starts), date_source=source if date else "", ocr_pages=scanned)
