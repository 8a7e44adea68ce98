"""Load one file into a Document: the module of its format (qa/ingest/formats/) reads it; the
file's modification time dates it when nothing inside does ("file date")."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from pathlib import Path

from qa import config
from qa.errors import DocumentError
from qa.ingest.dating import file_date, name_date
from qa.ingest.formats import docx, html, markdown, pdf, text
from qa.ingest.formats.encoding import decode
from qa.ingest.scan import relative_name
from qa.types import FILE_DATE, FILE_NAME, Document

MARKDOWN = (".md", ".markdown")
HTML = (".html", ".htm")
EMPTY = "empty file — add text or remove it"
EMPTY_PDF = "PDF has no text layer and no scanned image to read — re-export it with its text"


def read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, within the size limit for its kind."""
    try:
        size = path.stat().st_size
        limit = config.MAX_PDF_BYTES if path.suffix.lower() in (".pdf", ".docx") else config.MAX_FILE_BYTES
        if size > limit:
            raise DocumentError(f"{name}: {size // 2**20} MiB is over the {limit // 2**20} MiB limit — split it")
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read ({exc.strerror or exc}) — check it exists and is readable") from exc


def parse(data: bytes, name: str, suffix: str) -> Document:
    """A Document from a file's bytes, by its suffix; no file date, no hash."""
    if suffix == ".pdf":
        return pdf.load(data, name)
    if suffix == ".docx":
        return docx.load(data, name)
    decoded = decode(data, name)
    if suffix in HTML:
        return html.load(decoded, name)
    if suffix in MARKDOWN:
        return markdown.load(decoded, name)
    return text.load(decoded, name)


def load_document(path: Path, root: Path) -> Document:
    """Load one file; raises DocumentError naming the file and the fix."""
    name = relative_name(path, root)
    data = read_bytes(path, name)
    suffix = path.suffix.lower()
    doc = parse(data, name, suffix)
    if not doc.text[doc.body_start :].strip():
        raise DocumentError(f"{name}: {EMPTY_PDF if suffix == '.pdf' else EMPTY}")
    doc = dataclasses.replace(doc, sha256=hashlib.sha256(data).hexdigest())
    if doc.date is None and (named := name_date(name)) is not None:
        doc = dataclasses.replace(doc, date=named, date_source=FILE_NAME)
    if doc.date is None:
        with contextlib.suppress(OSError):
            doc = dataclasses.replace(doc, date=file_date(path.stat().st_mtime), date_source=FILE_DATE)
    return doc


def body_start(doc: Document) -> int:
    """Offset where chunking begins: after a date header or front matter."""
    return doc.body_start
