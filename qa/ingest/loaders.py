"""Load files into Documents: .txt/.md byte-exact, .html visible text, .pdf text per page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings
from pathlib import Path

from qa import config
from qa.errors import DocumentError
from qa.ingest.scan import relative_name
from qa.types import Document

# News samples open with " date YYYY-MM-DD " on the first line, followed by the article.
DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s")
TITLE_CHARS = 120


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM, or plain text without), else the detected encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")  # a cut-off last character is no reason to lose the file
    if b"\x00" in data[:8192]:  # valid UTF-8 can hold NULs, but no text file does
        wide = _utf16_without_bom(data)
        if wide is None:
            raise DocumentError(f"{name}: binary file, not text — remove it or convert it to .txt")
        return wide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(f"{name}: unknown text encoding — save it as UTF-8")
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """Text saved as UTF-16 without a BOM: every other byte of Latin-script text is NUL."""
    head = data[:8192]
    if len(data) % 2 or len(head) < 4:
        return None
    for zeros, codec in ((head[1::2], "utf-16-le"), (head[0::2], "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros):
            text = data.decode(codec, errors="replace")
            if "\x00" not in text and sum(ch.isprintable() or ch.isspace() for ch in text[:4096]) >= 0.95 * min(len(text), 4096):
                return text
    return None


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
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.lstrip("# ").strip()
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rstrip() + "…"


def html_text(source: str) -> tuple[str, str]:
    """(title, visible text) of an HTML page; scripts, styles and templates dropped."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # a page that reads like a URL, a file name or XML is still a page
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(source, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        if tag.name == "head" and soup.title:
            continue
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    for tag in soup(["head"]):
        tag.decompose()
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in soup.get_text("\n").splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title, text


def pdf_text(data: bytes, name: str) -> tuple[str, tuple[int, ...]]:
    """Text of a PDF with the offset where each page starts."""
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types on malformed files
        raise DocumentError(f"{name}: unreadable PDF ({type(exc).__name__}) — re-export it or remove it") from exc
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    return "\n\n".join(parts), tuple(starts)


def load_document(path: Path, root: Path) -> Document:
    """Load one file; raises DocumentError naming the file and the fix."""
    name = relative_name(path, root)
    try:
        size = path.stat().st_size
        limit = config.MAX_PDF_BYTES if path.suffix.lower() == ".pdf" else config.MAX_FILE_BYTES
        if size > limit:
            raise DocumentError(f"{name}: {size // 2**20} MiB is over the {limit // 2**20} MiB limit — split it")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read ({exc.strerror or exc}) — check it exists and is readable") from exc
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    pages: tuple[int, ...] = ()
    if suffix == ".pdf":
        text, pages = pdf_text(data, name)
        title = ""
    elif suffix in (".html", ".htm"):
        title, text = html_text(decode(data, name))
    else:
        text = decode(data, name)
        title = ""
    if not text.strip():
        what = "PDF has no text layer (scanned?) — run OCR on it" if suffix == ".pdf" else "empty file — add text or remove it"
        raise DocumentError(f"{name}: {what}")
    date, body_start = parse_header_date(text)
    return Document(
        path=name,
        text=text,
        date=date,
        title=title or make_title(text[body_start:]),
        sha256=sha,
        pages=pages,
    )


def body_start(doc: Document) -> int:
    """Offset after the date header, where chunking begins."""
    return parse_header_date(doc.text)[1]
