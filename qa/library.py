"""The entry point for programs: open an index, sync a folder into it, retrieve, ask."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import Encoder, VectorIndex, VectorIndexError
from embeddings.encoder import model_name_for, token_counter
from qa import config
from qa.answer.confidence import unknown_names
from qa.answer.extract import Retrieved, answer, confidence_of
from qa.answer.follow import Turn, conversation, follow_up, only_follows
from qa.errors import (
    BadArgument,
    BadDate,
    BadQuestion,
    DocumentNotFound,
    FolderMissing,
    FolderReadOnly,
    IndexCorrupt,
    IndexMissing,
)
from qa.index.catalog import Catalog
from qa.index.store import Store
from qa.ingest import chunking
from qa.ingest.chunking import CountTokens
from qa.ingest.sync import Encoding, PassageEncoder, Progress, apply, plan
from qa.search.dates import parse_question_dates
from qa.search.retrieve import SearchRequest, date_window, search
from qa.search.spelling import respell
from qa.types import Answer, Document, DocumentInfo, Hit, SyncReport

VIEW_ATTEMPTS = 5
MAX_QUESTION_CHARS = 2000  # the encoder reads 256 word pieces; more text only slows the search
_encoders: dict[tuple[str, str, int], Encoder] = {}
_encoders_lock = threading.Lock()


def shared_encoder(model_path: str | os.PathLike[str] | None) -> Encoder:
    """One loaded model per (path, precision) per process, shared by every open Library."""
    key = (str(model_path or ""), config.precision(), config.query_threads())
    with _encoders_lock:
        if key not in _encoders:
            _encoders[key] = Encoder(model_path, precision=config.precision(), query_threads=config.query_threads())
        return _encoders[key]


@dataclass(frozen=True)
class View:
    """One published generation, open for reading."""

    generation: str
    manifest: dict[str, Any]
    catalog: Catalog
    vectors: VectorIndex


class Library:
    """An index directory kept open: the model and the index stay loaded between questions."""

    def __init__(self, index_dir: str | os.PathLike[str] | None = None, model_path: str | os.PathLike[str] | None = None):
        self.store = Store(config.index_dir(index_dir))
        if self.store.root.exists() and not self.store.root.is_dir():
            raise IndexMissing(f"{self.store.root} is a file, not an index folder — give a folder (qa makes it), e.g. .qa-index")
        self.model_path = model_path or config.model_path()
        self.model_name = model_name_for(self.model_path)
        self._encoder: Encoder | None = None
        self._counter: CountTokens | None = None
        self._view: View | None = None
        self._lock = threading.RLock()
        self._prepared: dict[str, np.ndarray] = {}

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str] | None = None, model_path: str | os.PathLike[str] | None = None) -> Library:
        return cls(index_dir, model_path)

    @property
    def encoder(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = shared_encoder(self.model_path)
            return self._encoder

    def _count_tokens(self) -> CountTokens:
        if self._counter is None:
            self._counter = self._encoder.count_tokens if self._encoder else token_counter(self.model_path)
        return self._counter

    def view(self) -> View:
        """The current generation, reopened when another process has published a newer one."""
        with self._lock:
            for attempt in range(VIEW_ATTEMPTS):
                manifest = self.store.require()
                if self._view is not None and Store.identity(self._view.manifest) == Store.identity(manifest):
                    return self._view
                try:
                    return self._open_view(manifest)
                except IndexCorrupt:
                    # Two publishes between reading the manifest and opening its generation delete
                    # that generation under us: read the manifest again instead of calling it damaged.
                    latest = self.store.manifest()
                    if attempt + 1 == VIEW_ATTEMPTS or not latest or latest["generation"] == manifest["generation"]:
                        raise
            raise AssertionError("unreachable")

    def _open_view(self, manifest: dict[str, Any]) -> View:
        self.store.check_model(manifest, self.model_name)
        self.store.check_format(manifest, chunking.settings())
        self.store.verify(manifest)
        gen = self.store.generation_dir(manifest)
        try:
            vectors = VectorIndex.load(gen / "vectors.faiss")
        except VectorIndexError as exc:
            raise IndexCorrupt(f"{exc} — {self.store.rebuild_hint(manifest)}") from exc
        catalog = Catalog(gen / "catalog.sqlite", readonly=True, generation=str(manifest["generation"]))
        # The previous view is not closed here: a reader in another thread may still be searching
        # it (the chat serves many at once, with no lock). Its catalog closes when the last reader drops it.
        self._view = View(str(manifest["generation"]), manifest, catalog, vectors)
        return self._view

    @property
    def folder(self) -> Path | None:
        manifest = self.store.manifest()
        return Path(manifest["folder"]) if manifest else None

    def sync(
        self,
        folder: str | os.PathLike[str],
        progress: Progress | None = None,
        encoder: PassageEncoder | None = None,
        wait: float = 0.0,
    ) -> SyncReport:
        """Index new and changed files of `folder`, drop removed ones; encode only never-seen texts.

        Another writer (a `qa index` running) makes it fail with IndexLocked at once, or after
        waiting up to `wait` seconds for it to finish."""
        if not isinstance(folder, str | os.PathLike) or not str(folder):
            raise BadArgument(f"sync needs the folder holding your documents, not {folder!r} — e.g. lib.sync('docs/')")
        root = Path(folder).resolve()
        if not root.is_dir():
            raise FolderMissing(f"{folder}: no such folder — give the folder holding your documents")
        model_name = encoder.model_name if encoder else self.model_name
        with self.store.lock(wait), self.store.writing():
            manifest = self.store.manifest()
            if manifest:
                self.store.check_model(manifest, model_name)
            # An index from another qa version or chunk size is rebuilt, and so is a generation whose
            # files are not the ones its manifest vouches for: a new generation is made of verified
            # data only, and the vector cache spares the encoding.
            rebuild = manifest is not None and (
                self.store.outdated(manifest, chunking.settings()) or not self.store.intact(manifest)
            )
            known = self.view().catalog.files() if manifest and not rebuild else {}
            work = plan(root, known)
            if work.empty() and manifest and not rebuild and manifest.get("folder") == str(root):
                return _report_unchanged(work)
            dim = encoder.dim if encoder else _dim(self, manifest)
            encoding = Encoding(lambda: encoder or self.encoder, self._count_tokens, model_name, dim, progress)
            return apply(self.store, root, work, encoding, rebuild=rebuild)

    def retrieve(
        self,
        question: str,
        k: int = config.DEFAULT_K,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        mode: str = config.MODES[0],
        neighbours: int = 0,
    ) -> list[Hit]:
        """The k passages that best match `question`, each with its citation."""
        request = SearchRequest(question, k, None, None, mode, neighbours)
        return self._search(question, request, since, until, answering=False).hits

    def ask(
        self,
        question: str,
        k: int = config.DEFAULT_K,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        mode: str = config.MODES[0],
        history: Sequence[Answer | Turn] = (),
    ) -> Answer:
        """An extractive answer quoting the hits, with the hits it cites and the date range used.

        `history` holds the answers of the conversation so far, oldest first (or `Turn`s: what a
        program keeps of them): a follow-up that leans on them ("what did he say about
        sanctions?") is searched with their key terms, the documents the last one quoted lifted.
        """
        return self.answer_from(self.retrieve_for_answer(question, k, since, until, mode, history))

    def retrieve_for_answer(
        self,
        question: str,
        k: int = config.DEFAULT_K,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        mode: str = config.MODES[0],
        history: Sequence[Answer | Turn] = (),
    ) -> Retrieved:
        """The first half of `ask`: the question searched; when it seems to lean on the answer before
        (qa/answer/follow.py), searched with that answer's key terms and its quoted documents lifted.
        One that points back and names nothing new is only searched so (`only_follows`); any other
        may stand alone ("What did Merkel say about his plan?", "What destroyed the blossom?"): it
        is searched both ways, and the carried search is kept when the answer step is surer of its
        best sentence by FOLLOW_MARGIN. A misspelt word is put right first (qa/search/spelling.py)."""
        cleaned = self._respelled(clean_question(question))  # "reqested"
        searched = follow_up(cleaned, history)
        if searched == cleaned:
            return self._search(question, SearchRequest(cleaned, k, None, None, mode), since, until)
        carry = SearchRequest(searched, k, None, None, mode, prefer=conversation(history))
        if only_follows(cleaned, history):  # "Which journal carried it?": nothing else it could be about
            return self._search(question, carry, since, until)
        # Both with their question's vector (keyword mode searched without one): answer_from reuses it.
        alone = self._with_query(self._search(question, SearchRequest(cleaned, k, None, None, mode), since, until))
        carried = self._with_query(self._search(question, carry, since, until))
        return carried if confidence_of(carried) >= confidence_of(alone) + FOLLOW_MARGIN else alone

    def _with_query(self, retrieved: Retrieved) -> Retrieved:
        """`retrieved` with its question's vector (keyword mode searched without one)."""
        if retrieved.query is not None:
            return retrieved
        return replace(retrieved, query=self._query_vector(retrieved.searched))

    def answer_from(self, retrieved: Retrieved) -> Answer:
        """The second half of `ask`: the sentences of the hits that answer, each cited."""
        retrieved = self._with_query(retrieved)  # keyword mode searched without it; sentences are still scored by meaning
        result = answer(retrieved)
        w = retrieved.window
        return replace(result, question=retrieved.question, since=w.since, until=w.until, date_note=w.note)

    def _search(
        self,
        question: str,
        request: SearchRequest,
        since: dt.date | str | None,
        until: dt.date | str | None,
        answering: bool = True,
    ) -> Retrieved:
        """The request searched on one generation, its question cleaned and its dates worked out once;
        when `answering`, with the question's names that no document of that generation holds (a hits-only
        search skips that lookup, which a dense search would otherwise load the BM25 postings for)."""
        cleaned = clean_question(request.question)
        as_k(request.k)
        if request.mode not in config.MODES:
            raise BadQuestion(f"mode {request.mode!r} is not one of {', '.join(config.MODES)}")
        view = self.view()
        query = self._query_vector(cleaned) if request.mode != "keyword" else None
        encoder = Prepared(self.encoder, {cleaned: query}) if query is not None else None
        day_from, day_to = as_date(since), as_date(until)
        window = date_window(view.catalog, cleaned, day_from, day_to)
        request = replace(request, question=cleaned, k=as_k(request.k), since=day_from, until=day_to, window=window)
        try:
            hits = search(view.catalog, view.vectors, encoder, request)
            unknown = unknown_names(cleaned, view.catalog.lexicon().holds) if answering else ()
        except sqlite3.DatabaseError as exc:  # an index written before checksums, damaged since
            raise self._damaged(view, exc) from exc
        return Retrieved(as_text(question), cleaned, hits, window, query, view.vectors, unknown)

    def _respelled(self, question: str) -> str:
        """`question` with its misspelt words put right from the documents' words (qa/search/spelling.py)."""
        view = self.view()
        try:
            return respell(question, view.catalog.lexicon().frequency)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(view, exc) from exc

    def _damaged(self, view: View, exc: sqlite3.DatabaseError) -> IndexCorrupt:
        """The one-line error for a catalog that SQLite finds damaged, with how to rebuild it."""
        return IndexCorrupt(f"{view.catalog.path}: damaged catalog ({exc}) — {self.store.rebuild_hint(view.manifest)}")

    def _query_vector(self, cleaned: str) -> np.ndarray:
        """The question's vector, from the batch `prepare_queries` made when it holds it."""
        vector = self._prepared.get(cleaned)
        return vector if vector is not None else self.encoder.encode_query(cleaned)

    def warm(self) -> None:
        """Load what the first question would otherwise wait for: the model, the date parser (dateparser
        and its time-zone patterns: ~0.15 s on the first question that names a date), then the index
        (`warm_index`)."""
        self.encoder.encode_query("warm up")
        parse_question_dates("since last week", today=dt.date.today())
        self.warm_index()

    def warm_index(self) -> None:
        """Open the newest generation and load what its first search reads: the vector screen, the BM25
        postings, the document lookup."""
        view = self.view()
        view.vectors.warm()
        view.catalog.lexicon()
        view.catalog.lookup()

    def prepare_queries(self, questions: list[str]) -> None:
        """Encode many questions in one batch ahead of retrieving them one by one (qa eval): a batch
        uses every core and pays the model's fixed cost once. Replaces what was prepared before."""
        cleaned = [c for c in map(_question_or_blank, questions) if c]
        self._prepared = dict(zip(cleaned, self.encoder.encode_queries(cleaned), strict=True)) if cleaned else {}

    def document(self, source: str) -> Document | None:
        return self.view().catalog.document(source)

    def documents(self) -> Iterator[Document]:
        return self.view().catalog.documents()

    def inventory(self) -> list[DocumentInfo]:
        """Every indexed document with its title, date, sha256 and passage count, but not its text."""
        return self.view().catalog.inventory()

    def info(self, source: str) -> DocumentInfo | None:
        """What `inventory` says of one document, or None when `source` is not indexed."""
        found = self.view().catalog.inventory(source)
        return found[0] if found else None

    def remove(self, source: str, progress: Progress | None = None, wait: float = 0.0) -> SyncReport:
        """Delete the document `source` from the indexed folder and from the index; nothing else changes
        but what a sync of the folder would change anyway.

        The file is first moved aside under a hidden name (which a sync passes over), so a sync that
        fails (another writer still holds the index after `wait` seconds) puts it back and leaves
        everything as it was.
        """
        folder = self.folder
        if folder is None or self.document(source) is None:
            raise DocumentNotFound(f"{source!r} is not in the index — give a source as the documents list shows it")
        path = folder / source
        aside = path.with_name(f".{path.name}.qa-removing")
        moved = _move(path, aside)
        try:
            report = self.sync(folder, progress=progress, wait=wait)
        except BaseException:
            if moved:
                _move(aside, path)
            raise
        if moved:
            aside.unlink(missing_ok=True)
        return report

    def close(self) -> None:
        with self._lock:
            if self._view:
                self._view.catalog.close()
                self._view = None


@dataclass(frozen=True)
class Prepared:
    """The encoder, answering from the vectors `prepare_queries` made in a batch when it can."""

    encoder: Encoder
    vectors: dict[str, np.ndarray]

    def encode_query(self, text: str) -> np.ndarray:
        vector = self.vectors.get(text)
        return vector if vector is not None else self.encoder.encode_query(text)


def _move(src: Path, dst: Path) -> bool:
    """Rename src to dst; False when src is already gone. OSError (read-only folder) as a QAError."""
    try:
        os.replace(src, dst)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise FolderReadOnly(f"{src}: cannot remove ({exc.strerror}) — check the folder is writable") from exc
    return True


def _dim(lib: Library, manifest: dict[str, Any] | None) -> int:
    return int(manifest["dim"]) if manifest else lib.encoder.dim


def _report_unchanged(work: Any) -> SyncReport:
    return SyncReport(unchanged=work.unchanged, skipped=tuple(work.skipped))


def as_text(question: object) -> str:
    """The question as text: bytes are read as UTF-8 (str() would search the text "b'...'"), None is
    empty, anything else that is not text is refused."""
    if isinstance(question, bytes | bytearray):
        try:
            return bytes(question).decode("utf-8")
        except UnicodeDecodeError:
            raise BadQuestion("The question is bytes that are not UTF-8 — pass it as text (str)") from None
    if question is None:
        return ""
    if not isinstance(question, str):
        raise BadQuestion(f'The question must be text (str), not {type(question).__name__} — e.g. ask("Who requested the call?")')
    return question


# A question that seems to lean on the answer before but may stand alone (follow.only_follows) is
# searched alone and with that answer's key terms (its documents lifted); the carried search is kept
# when the answer step is surer of it by at least this much (the logit of "found"). Chosen on the dev
# halves with bench/follow_tune.py: the follow-ups after their question, the other sets each after
# an unrelated one, as in a chat that moves on (docs/benchmarks/answer.md, "Follow-ups").
FOLLOW_MARGIN = 0.5


def clean_question(question: str | bytes) -> str:
    """The question without control characters, trimmed; BadQuestion when nothing is left."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in as_text(question))
    text = " ".join(text.split())[:MAX_QUESTION_CHARS]
    if not text:
        raise BadQuestion('The question is empty — type a question, e.g.: qa ask "Who requested the call?"')
    return text


def _question_or_blank(question: str) -> str:
    """The cleaned question, or "" for one that cleans to nothing (retrieving it raises BadQuestion)."""
    try:
        return clean_question(question)
    except BadQuestion:
        return ""


def as_k(k: object) -> int:
    """k as the number of passages to get: a whole number from 1 to config.MAX_K, else BadArgument."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise BadArgument(f"k={k!r} is not a whole number — pass an int from 1 to {config.MAX_K}, e.g. k={config.DEFAULT_K}")
    if not 1 <= k <= config.MAX_K:
        raise BadArgument(f"k={k} is out of range — pass an int from 1 to {config.MAX_K}, e.g. k={config.DEFAULT_K}")
    return int(k)


def as_date(value: dt.date | str | None) -> dt.date | None:
    """A day: a date, a datetime (its whole day: since=datetime(2021, 12, 30, 15) keeps that day), or YYYY-MM-DD."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadDate(f"{value!r} is not a date — use YYYY-MM-DD, e.g. 2021-12-30") from exc
