"""SQLite catalog of documents and chunks: their text and citation fields, each one's stemmed term
counts for BM25 (qa/index/lexicon.py), and each document's vector (the normalised mean of its passage vectors)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import IndexCorrupt
from qa.index.lexicon import Lexicon, bag, tokens
from qa.index.lookup import Lookup
from qa.types import FILE_DATE, OLDEST_TRUSTED_DATE, Chunk, Document, DocumentInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, date TEXT, title TEXT NOT NULL,
    text TEXT NOT NULL, pages TEXT NOT NULL, vector BLOB, bag BLOB NOT NULL,
    date_source TEXT NOT NULL DEFAULT '', ocr_pages TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, page INTEGER,
    text TEXT NOT NULL, hash TEXT NOT NULL, bag BLOB NOT NULL, section TEXT NOT NULL DEFAULT '',
    ocr INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS vocabulary (id INTEGER PRIMARY KEY, term TEXT UNIQUE NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ordinal);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class FileState:
    """What the catalog knows of a file, to tell whether it changed."""

    doc_id: int
    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, kw_only=True)
class ChunkRow(Chunk):
    """A chunk as stored, with its row id and its document's."""

    id: int
    doc_id: int


# A document's date_source is stored after its text: reading it walks the text's overflow pages, so
# chunk rows take it from Catalog._date_sources (~0.1 ms of 20 rows on the news index).
_CHUNK_COLUMNS = (
    'c.id, c.doc_id, c.ordinal, c.start, c."end", c.line_start, c.line_end, c.page, c.text, d.path, d.date, d.title, c.section, '
    "c.ocr, d.sha256"
)
_DOCUMENT_COLUMNS = "path, text, date, title, sha256, pages, date_source, ocr_pages, tags"


def _chunk_row(row: tuple, generation: str, date_source: str) -> ChunkRow:
    """A row of _CHUNK_COLUMNS as a ChunkRow of the catalog of `generation`; `date_source` is its document's."""
    id_, doc_id, ordinal, start, end, line_start, line_end, page, text, source, date, title, section = row[:13]
    ocr, sha256 = row[13:]
    return ChunkRow(
        id=id_, doc_id=doc_id, ordinal=ordinal, start=start, end=end, line_start=line_start, line_end=line_end,
        page=page, text=text, source=source, date=dt.date.fromisoformat(date) if date else None, title=title, section=section,
        date_source=date_source, ocr=bool(ocr), sha256=sha256, generation=generation,
    )  # fmt: skip


class Catalog:
    """One catalog.sqlite file. Writers use it inside a fresh generation folder only."""

    def __init__(self, path: Path, readonly: bool = False, generation: str = ""):
        self.path = path
        self.generation = generation  # of a published catalog: every chunk row read cites it
        self._lock = threading.Lock()
        self._lookup: Lookup | None = None
        self._lexicon: Lexicon | None = None
        self._listing: list[DocumentInfo] | None = None  # the whole inventory, read once
        self._term_ids: dict[str, int] | None = None  # a writer's vocabulary, read on first use
        self.readonly = readonly
        self._newest: dict[dt.date, dt.date | None] = {}  # newest_date by today, for a read-only catalog
        self._sources: dict[int, str] = {}  # date_source by document id, for a read-only catalog
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        try:
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            if not readonly:
                self.db.executescript(SCHEMA)
            self.db.execute("SELECT count(*) FROM documents").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{path}: damaged catalog ({exc}) — delete the index folder and run: qa index FOLDER") from exc

    def close(self) -> None:
        self.db.close()

    def files(self) -> dict[str, FileState]:
        rows = self.db.execute("SELECT path, id, sha256, size, mtime_ns FROM documents")
        return {p: FileState(i, s, z, m) for p, i, s, z, m in rows}

    def counts(self) -> tuple[int, int]:
        docs = self.db.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def remove_document(self, doc_id: int) -> list[int]:
        """Delete a document and its chunks; returns the removed chunk ids."""
        ids = [i for (i,) in self.db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return ids

    def touch(self, doc_id: int, size: int, mtime_ns: int) -> None:
        self.db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, doc_id))

    def add_document(
        self, doc: Document, size: int, mtime_ns: int, chunks: list[Chunk]
    ) -> tuple[int, list[tuple[int, str, str]]]:
        """Insert a document and its chunks; returns its id and (chunk id, hash, text) for each chunk."""
        cur = self.db.execute(
            "INSERT INTO documents (path, sha256, size, mtime_ns, date, title, text, pages, bag, date_source, ocr_pages, tags)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (doc.path, doc.sha256, size, mtime_ns, doc.date.isoformat() if doc.date else None,
             doc.title, doc.text, json.dumps(list(doc.pages)), self._bag(doc.text), doc.date_source,
             json.dumps(list(doc.ocr_pages)), json.dumps(list(doc.tags), ensure_ascii=False)),
        )  # fmt: skip
        doc_id = int(cur.lastrowid or 0)
        out = []
        for c in chunks:
            h = text_hash(c.text)
            row = (doc_id, c.ordinal, c.start, c.end, c.line_start, c.line_end, c.page, c.text, h, self._bag(c.text), c.section)
            cur = self.db.execute(
                'INSERT INTO chunks (doc_id, ordinal, start, "end", line_start, line_end, page, text, hash, bag, section, ocr)'
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (*row, int(c.ocr)),
            )
            out.append((int(cur.lastrowid or 0), h, c.text))
        return doc_id, out

    def _bag(self, text: str) -> bytes:
        """The stored term counts of `text`, adding its new words to the vocabulary."""
        if self._term_ids is None:
            self._term_ids = {t: int(i) for i, t in self.db.execute("SELECT id, term FROM vocabulary")}
        words = tokens(text)
        for w in dict.fromkeys(words):
            if w not in self._term_ids:
                cur = self.db.execute("INSERT INTO vocabulary (term) VALUES (?)", (w,))
                self._term_ids[w] = int(cur.lastrowid or 0)
        return bag(words, self._term_ids)

    def set_document_vectors(self, vectors: dict[int, np.ndarray]) -> None:
        rows = ((np.asarray(v, dtype=np.float32).tobytes(), doc_id) for doc_id, v in vectors.items())
        self.db.executemany("UPDATE documents SET vector = ? WHERE id = ?", rows)

    def commit(self) -> None:
        self.db.commit()

    # -- reading -------------------------------------------------------------------------

    def chunk_rows(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        wanted = [int(i) for i in ids]
        out: dict[int, ChunkRow] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})"
            rows = self.db.execute(sql, part).fetchall()
            sources = self._date_sources({r[1] for r in rows})
            for row in rows:
                out[row[0]] = _chunk_row(row, self.generation, sources[row[1]])
        return out

    def _date_sources(self, doc_ids: set[int]) -> dict[int, str]:
        """date_source of these documents, remembered for a read-only catalog."""
        missing = [i for i in doc_ids if i not in self._sources]
        found: dict[int, str] = {}
        if missing:
            marks = ",".join("?" * len(missing))
            found = dict(self.db.execute(f"SELECT id, date_source FROM documents WHERE id IN ({marks})", missing))
        if self.readonly:
            self._sources.update(found)
        return {i: found.get(i, self._sources.get(i, "")) for i in doc_ids}

    def neighbours(self, doc_id: int, ordinal: int, n: int) -> list[ChunkRow]:
        sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id "
        sql += "WHERE c.doc_id = ? AND c.ordinal BETWEEN ? AND ? AND c.ordinal != ? ORDER BY c.ordinal"
        rows = self.db.execute(sql, (doc_id, ordinal - n, ordinal + n, ordinal)).fetchall()
        source = self._date_sources({doc_id})[doc_id]
        return [_chunk_row(r, self.generation, source) for r in rows]

    def ids_in_dates(self, since: dt.date | None, until: dt.date | None) -> list[int]:
        clause, args = _dated(since, until)
        sql = "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.date IS NOT NULL" + clause
        return [i for (i,) in self.db.execute(sql, args)]

    def newest_date(self, today: dt.date | None = None) -> dt.date | None:
        """The newest date a document itself gives (not a file date) between OLDEST_TRUSTED_DATE and
        today: what "on December 30" in a question is read against."""
        today = today or dt.date.today()
        if today in self._newest:
            return self._newest[today]
        sql = "SELECT max(date) FROM documents WHERE date BETWEEN ? AND ? AND date_source != ?"
        row = self.db.execute(sql, (OLDEST_TRUSTED_DATE.isoformat(), today.isoformat(), FILE_DATE)).fetchone()
        newest = dt.date.fromisoformat(row[0]) if row and row[0] else None
        if self.readonly:  # a published catalog never changes: ~0.2 ms a question on the news index
            self._newest = {today: newest}
        return newest

    def documents_dated(self, since: dt.date | None, until: dt.date | None) -> set[int]:
        """Ids of the dated documents within [since, until]; None leaves that end open."""
        clause, args = _dated(since, until)
        sql = "SELECT d.id FROM documents d WHERE d.date IS NOT NULL" + clause
        return {int(i) for (i,) in self.db.execute(sql, args)}

    def lookup(self) -> Lookup:
        """The in-memory chunk -> document map and document vectors; read once, for a read-only catalog."""
        with self._lock:
            if self._lookup is None:
                self._lookup = Lookup.load(self.db, self.path)
            return self._lookup

    def lexicon(self) -> Lexicon:
        """BM25 postings of every chunk and document; built once, for a read-only catalog."""
        with self._lock:
            if self._lexicon is None:
                self._lexicon = Lexicon.load(self.db, self.path)
            return self._lexicon

    def document(self, path: str) -> Document | None:
        row = self.db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE path = ?", (path,)).fetchone()
        return _document(row) if row else None

    def documents(self) -> Iterator[Document]:
        for row in self.db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents ORDER BY path"):
            yield _document(row)

    def inventory(self, path: str | None = None) -> list[DocumentInfo]:
        """Every document (or the one at `path`) without its text, with its passage count, by path. The
        whole list is read once, for a read-only catalog: the documents panel asks for it at every key
        typed in its filter (~27 ms for 3,788 news articles)."""
        if path is not None:
            return self._infos(" WHERE d.path = ?", (path,))
        with self._lock:
            if self._listing is None:
                self._listing = self._infos(" ORDER BY d.path", ())
            return list(self._listing)

    def _infos(self, clause: str, args: tuple[str, ...]) -> list[DocumentInfo]:
        sql = (
            "SELECT d.path, d.title, d.date, d.sha256, (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id),"
            " json_array_length(d.pages), d.date_source FROM documents d"
        )
        return [
            DocumentInfo(p, title, dt.date.fromisoformat(date) if date else None, sha, int(n), int(pages or 0), source or "")
            for p, title, date, sha, n, pages, source in self.db.execute(sql + clause, args)
        ]

    def document_id(self, path: str) -> int | None:
        row = self.db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
        return int(row[0]) if row else None


def _dated(since: dt.date | None, until: dt.date | None) -> tuple[str, list[str]]:
    """The SQL condition (on documents aliased d) and its arguments for a date range; None is open."""
    parts = [(" AND d.date >= ?", since), (" AND d.date <= ?", until)]
    return "".join(sql for sql, day in parts if day), [day.isoformat() for _, day in parts if day]


def _document(row: tuple) -> Document:
    path, text, date, title, sha, pages, date_source, ocr_pages, tags = row
    return Document(
        path, text, dt.date.fromisoformat(date) if date else None, title, sha, tuple(json.loads(pages)),
        date_source=date_source, ocr_pages=tuple(json.loads(ocr_pages)), tags=tuple(json.loads(tags)),
    )
