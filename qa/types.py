"""The data passed between qa's modules: small frozen dataclasses, JSON only at the edge."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from typing import Any

from qa.text import Lines

SECTION_SEPARATOR = " › "  # between the headings of a section path: "Costs › 2024"

# Where a document's date came from, most trusted first. A file's modification time says when it
# was last copied or saved, not when it was written: it is a fallback, shown as "file date".
HEADER, FRONT_MATTER, HTML_META, DATE_LINE, TITLE, PDF_METADATA, DOCX_METADATA, FILE_NAME, FILE_DATE = (
    "header", "front matter", "html meta", "date line", "title", "pdf metadata", "docx metadata", "file name",
    "file date",
)  # fmt: skip
DATE_SOURCES = (HEADER, FRONT_MATTER, HTML_META, DATE_LINE, TITLE, PDF_METADATA, DOCX_METADATA, FILE_NAME, FILE_DATE)
# A document date before this, or after today, is a placeholder or a typo (9999-12-31, 0001-01-01):
# it is kept and shown, but never anchors "on December 30" in a question (qa/search/dates.py).
OLDEST_TRUSTED_DATE = dt.date(1800, 1, 1)


@dataclasses.dataclass(frozen=True)
class Document:
    """One loaded file. `text` is what offsets and line numbers refer to.

    The loader also says where the indexed text begins (after a date header or front matter, which
    stay in `text` so offsets and lines are the file's own), the sections its headings open, and
    where a sentence must end though no punctuation says so (a list item, a table row, a paragraph).
    """

    path: str  # relative to the indexed folder, POSIX separators
    text: str
    date: dt.date | None = None
    title: str = ""
    sha256: str = ""
    pages: tuple[int, ...] = ()  # PDF: character offset where each page starts; else empty
    date_source: str = ""  # one of DATE_SOURCES, "" when undated
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text was read from a scan by OCR
    tags: tuple[str, ...] = ()  # from Markdown front matter
    body_start: int = 0  # where the text to index begins
    sections: tuple[tuple[int, str], ...] = ()  # (offset, heading path): from that offset on, until the next
    breaks: tuple[int, ...] = ()  # offsets where a sentence ends whatever the punctuation

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for documents without pages."""
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))

    def lines(self) -> Lines:
        """Line numbers as citations give them (restarting on each page of a PDF)."""
        return Lines(self.text, self.pages)

    def ocr_at(self, offset: int) -> bool:
        """True when the text at `offset` was read by OCR."""
        return self.page_at(offset) in self.ocr_pages


@dataclasses.dataclass(frozen=True)
class Citation:
    """Where a passage stands: enough for a fact-checker to open the file and find the words.

    `start`/`end` are character offsets into the document's text; lines are 1-based and
    inclusive, counting \n, \r\n and a lone \r as one break each, from the top of the page for a
    PDF (qa.text.Lines).
    """

    source: str  # relative to the indexed folder, POSIX separators
    date: dt.date | None
    title: str
    start: int
    end: int
    line_start: int
    line_end: int
    page: int | None = None
    section: str = ""  # the headings above the passage, e.g. "Costs › 2024"
    date_source: str = ""  # where `date` came from: one of DATE_SOURCES, "" when undated
    ocr: bool = False  # the passage's page was a scan, its text read by OCR
    # Which bytes and which index the citation was read from, so it can be re-checked after the file
    # changes: the file's SHA-256 (of its bytes, as read) and the index generation ("gen-000007").
    sha256: str = ""
    generation: str = ""

    @property
    def dated(self) -> str:
        """The date and where it came from, as shown to a reader: "2023-06-01 (front matter)"."""
        return describe_date(self.date, self.date_source)

    @property
    def citation(self) -> Citation:
        """Only the citation fields (of a Chunk, Hit or Occurrence)."""
        return Citation(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Citation)})

    def to_json(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Chunk(Citation):
    """A run of whole sentences of one document. Invariant: doc.text[start:end] == text."""

    ordinal: int
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hit(Citation):
    """One retrieved passage with its citation.

    `sentence_start`/`sentence_end` locate the sentence that best matches the question
    inside `text` (offsets relative to the chunk). `duplicates` lists other places
    carrying the same passage; `neighbours` holds adjacent chunks when asked for.
    """

    rank: int
    score: float
    chunk_id: int
    text: str
    sentence_start: int
    sentence_end: int
    dense_score: float | None = None
    lexical_score: float | None = None
    duplicates: tuple[Citation, ...] = ()
    neighbours: tuple[Chunk, ...] = ()

    @property
    def sentence(self) -> str:
        """The best-matching sentence itself."""
        return self.text[self.sentence_start : self.sentence_end]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "sentence": self.sentence}


def where(c: Any, dash: str = "-") -> str:
    """Where a citation (or a viewer's Target) stands in its file: 'lines 3-5', 'page 2, lines 3-5',
    or 'page 2 (OCR), lines 3-5' for a scanned page; `dash` between the lines ("–" in print)."""
    lines = f"lines {c.line_start}{dash}{c.line_end}" if c.line_end != c.line_start else f"line {c.line_start}"
    ocr = " (OCR)" if getattr(c, "ocr", False) else ""
    return f"page {c.page}{ocr}, {lines}" if c.page else lines


def headed(title: str, section: str) -> str:
    """The document's title and the headings above a passage, as a reader follows them, each said
    once: the section path alone when its first heading holds the title (a Markdown # heading is
    both, or says it at length: "Platform team offsite, May 2024" under the title "Platform team
    offsite"); the title for a first heading it holds ("Decision record 007 — replacing the gas
    boiler" over "# Replacing the gas boiler"); "" when neither is known."""
    if not title or not section:
        return section or title
    first, _, rest = section.partition(SECTION_SEPARATOR)
    if title.casefold() in first.casefold():
        return section
    if first.casefold() in title.casefold():
        return f"{title}{SECTION_SEPARATOR}{rest}" if rest else title
    return f"{title}{SECTION_SEPARATOR}{section}"


def describe_date(date: dt.date | None, source: str) -> str:
    """"2023-06-01 (front matter)", "2023-06-01" when the source is unknown, or "undated"."""
    if date is None:
        return "undated"
    return f"{date.isoformat()} ({source})" if source else date.isoformat()


def jsonable(value: Any) -> Any:
    """`value` with dates as ISO strings and tuples as lists, ready for json.dumps."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Quote:
    """One sentence of an answer, quoted from hit number `marker` (1-based).

    `answer_start`/`answer_end` mark the phrase inside `text` that answers the question, when one
    was found with confidence; both 0 when nothing is marked.
    """

    text: str
    marker: int
    source: str
    start: int  # offsets in the source document
    end: int
    score: float
    answer_start: int = 0
    answer_end: int = 0

    @property
    def answer(self) -> str:
        """The marked phrase, or "" when none is marked."""
        return self.text[self.answer_start : self.answer_end]

    @property
    def around(self) -> tuple[str, str, str]:
        """(before, the marked phrase, after): the text around the phrase; ("text", "", "") when none is marked."""
        if self.answer_end <= self.answer_start:
            return self.text, "", ""
        return self.text[: self.answer_start], self.answer, self.text[self.answer_end :]


@dataclasses.dataclass(frozen=True)
class Answer:
    """An extractive answer: quoted sentences, each citing a hit."""

    question: str
    text: str
    quotes: tuple[Quote, ...]
    hits: tuple[Hit, ...]
    found: bool  # False: nothing scored high enough; hits are the closest, marked weak
    since: dt.date | None = None
    until: dt.date | None = None
    date_note: str = ""  # e.g. 'dates 2021-12-30..2021-12-30 from "on December 30"'
    searched: str = ""  # the question as searched: a follow-up carries terms of the turn before

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "date_note": self.date_note,
            "searched": self.searched or self.question,
            "quotes": [{**dataclasses.asdict(q), "answer_phrase": q.answer} for q in self.quotes],
            "hits": [h.to_json() for h in self.hits],
        }


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A file the sync could not load, and why."""

    path: str
    reason: str


@dataclasses.dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_encoded: int = 0
    chunks_reused: int = 0
    skipped: tuple[Skipped, ...] = ()


@dataclasses.dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as a listing shows it: what it is, without its text."""

    source: str  # relative to the indexed folder, POSIX separators
    title: str
    date: dt.date | None
    sha256: str  # of the file's bytes
    passages: int  # chunks in the index, each a citable passage
    pages: int = 0  # PDF pages; 0 for documents without pages
    date_source: str = ""  # where the date came from (the header, the file's time...); "" when unknown

    def matches(self, needle: str) -> bool:
        """True when `needle` (any case) is in the source or the title; a blank needle matches all."""
        text = needle.strip().casefold()
        return not text or text in self.source.casefold() or text in self.title.casefold()

    def to_json(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self))
