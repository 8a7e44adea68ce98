"""Hybrid retrieval: dense (FAISS) and lexical (BM25, qa/index/lexicon.py) candidate passages, their scores scaled
and blended, each lifted by how well its whole document matches (BM25 of the document's text, cosine
to the document's vector), nudged towards the dates a question names, near-duplicates collapsed.
The weights are measured: docs/benchmarks/retrieval.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embeddings import VectorIndex
from qa import config
from qa.index.catalog import Catalog, ChunkRow
from qa.index.lexicon import Lexicon, Terms
from qa.index.slots import all_slots, best_per_chunk
from qa.search.dates import parse_question_dates
from qa.search.dedupe import Collapser, shingles
from qa.search.fusion import DEFAULT, Lifts, Ranking, Weights, document_scores, rank
from qa.text import ASCII_WORD, split_sentences, terms
from qa.types import Chunk, Citation, Hit

# Candidates per retriever before fusion (measured: docs/benchmarks/retrieval.md).
CANDIDATES = 200
# Nearest vectors fetched per dense candidate wanted: a passage has its own vector and ~3.5
# sentence vectors (qa/index/slots.py), and several of them often rank near each other; 3 instead of
# 2 changed dense nDCG@10 on the news questions by < 0.003 and cost 0.1 ms (docs/benchmarks/retrieval.md).
VECTORS_PER_CANDIDATE = 2
LOOK_PAST = 4  # passages ranked per hit wanted: those past the k-th are read only to find more twins


@dataclass(frozen=True)
class SearchRequest:
    """What a search asks for. `window` is the date range from `date_window`, when worked out already."""

    question: str
    k: int = config.DEFAULT_K
    since: dt.date | None = None
    until: dt.date | None = None
    mode: str = config.MODES[0]
    neighbours: int = 0
    window: DateWindow | None = None
    prefer: frozenset[str] = frozenset()  # sources whose passages are lifted: the documents a conversation is about


@dataclass(frozen=True)
class DateWindow:
    """The dates a search uses: explicit since/until filter; dates named in the question prefer."""

    since: dt.date | None
    until: dt.date | None
    note: str = ""
    strict: bool = True  # False: documents outside the range are ranked lower, not dropped


class QueryEncoder(Protocol):
    def encode_query(self, text: str) -> np.ndarray: ...


def date_window(catalog: Catalog, question: str, since: dt.date | None, until: dt.date | None) -> DateWindow:
    """Explicit since/until win; otherwise the range the question names, relative to the newest
    document (a year-less "December 30" is the latest one the collection can speak of)."""
    if since or until:
        return DateWindow(since, until, f"dates {_iso(since)}..{_iso(until)} (as asked)")
    named = parse_question_dates(question, today=catalog.newest_date())
    if named is None:
        return DateWindow(None, None)
    since = None if named.since == dt.date.min else named.since
    until = None if named.until == dt.date.max else named.until
    note = f'dates {_iso(since)}..{_iso(until)} from "{named.phrase}" (preferred, not required)'
    return DateWindow(since, until, note, strict=False)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def dense_candidates(vectors: VectorIndex, query: np.ndarray, n: int, allowed: Sequence[int] | None) -> Ranking:
    """The `n` passages nearest the query, each scored by the best of its own vector and its
    sentences' (qa/index/slots.py); `allowed` limits them to those chunk ids."""
    if allowed is not None and not allowed:
        return []
    ids_allowed = vectors.stored(all_slots(allowed)) if allowed is not None else None
    scores, ids = vectors.search(query, n * VECTORS_PER_CANDIDATE, ids_allowed)
    return best_per_chunk(ids[0], scores[0], n)


def lexical_candidates(lexicon: Lexicon, terms: Terms, n: int, allowed: Sequence[int] | None) -> Ranking:
    """The n best passages by BM25 for the question's weighted term ids, among `allowed` chunk ids when given."""
    if not terms or (allowed is not None and not allowed):
        return []
    return lexicon.chunks.top(terms, n, lexicon.chunks.mask(allowed) if allowed is not None else None)


def best_sentence(text: str, question: str | set[str]) -> tuple[int, int]:
    """Span (within `text`) of the sentence sharing the most question words (`question`, or its
    `terms` already made into a set); the first on ties."""
    spans = split_sentences(text) or [(0, len(text))]
    wanted = question if isinstance(question, set) else set(terms(question))
    if len(spans) == 1 or not wanted:
        return spans[0]
    if not text.isascii():  # lower() may change the length of other scripts, and so the offsets
        return max(spans, key=lambda s: len(wanted & set(terms(text[s[0] : s[1]]))))
    # ASCII lowers in place; the wanted words hold no stop words, so these need no filtering.
    low = text.lower()
    return max(spans, key=lambda s: len(wanted.intersection(ASCII_WORD.findall(low, s[0], s[1]))))


def to_chunk(row: ChunkRow) -> Chunk:
    return Chunk(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Chunk)})


def search(
    catalog: Catalog, vectors: VectorIndex, encoder: QueryEncoder | None, request: SearchRequest, weights: Weights = DEFAULT
) -> list[Hit]:
    """Top-k passages for the request's question, near-duplicates collapsed, each with its citation."""
    q = request
    window = q.window or date_window(catalog, q.question, q.since, q.until)
    n = max(CANDIDATES, q.k)  # not more for a larger k: the top of the list must not depend on k
    strict = (window.since, window.until) if window.strict else (None, None)
    allowed = catalog.ids_in_dates(*strict) if any(strict) else None
    lexicon = catalog.lexicon()
    words = lexicon.ids_of(q.question) if q.mode in ("hybrid", "keyword") else {}
    lexical = lexical_candidates(lexicon, words, n, allowed)
    query = encoder.encode_query(q.question) if q.mode in ("hybrid", "dense") and encoder is not None else None
    dense = dense_candidates(vectors, query, n, allowed) if query is not None else []
    lookup = catalog.lookup()
    doc_of = lookup.documents_of({i for i, _ in dense} | {i for i, _ in lexical})
    docs = set(doc_of.values())
    preferred = None if window.strict else catalog.documents_dated(window.since, window.until) & docs
    conversation = {i for source in q.prefer if (i := catalog.document_id(source)) in docs} if q.prefer else None
    doc_lexical = lexicon.documents.scores_of(words, docs) if words else {}
    doc_dense = lookup.cosines(query, docs) if query is not None else {}
    coverage = lexical[0][1] / ceiling if lexical and (ceiling := lexicon.chunks.ceiling(words)) > 0 else 1.0
    lifts = Lifts(document_scores(doc_lexical, doc_dense, q.mode, weights), preferred, coverage, conversation)
    ranked = rank(dense, lexical, doc_of, q.mode, weights, lifts)[: LOOK_PAST * q.k]
    return _hits(catalog, q, collapse(catalog, ranked, q.k), dense, lexical)


def collapse(catalog: Catalog, ranked: Ranking, k: int) -> list[tuple[ChunkRow, float, list[Citation]]]:
    """The first k passages of `ranked` that repeat none before them, each with where its twins stand."""
    rows = catalog.chunk_rows(c for c, _ in ranked)
    collapser = Collapser()
    kept: list[tuple[ChunkRow, float, list[Citation]]] = []
    for chunk_id, score in ranked:
        row = rows.get(chunk_id)
        if row is None:
            continue
        triples = shingles(row.text)
        twin = collapser.twin(triples)
        if twin is not None:
            kept[twin][2].append(row.citation)
        elif len(kept) < k:
            collapser.keep(triples)
            kept.append((row, score, []))
    return kept


def _hits(
    catalog: Catalog, request: SearchRequest, kept: list[tuple[ChunkRow, float, list[Citation]]], dense: Ranking, lexical: Ranking
) -> list[Hit]:
    """The kept passages as Hits: best sentence marked, both sides' scores, twins and neighbours."""
    wanted, n = set(terms(request.question)), request.neighbours
    dense_of, lexical_of = dict(dense), dict(lexical)
    hits = []
    for position, (row, score, dups) in enumerate(kept, start=1):
        s_start, s_end = best_sentence(row.text, wanted)
        around = tuple(to_chunk(r) for r in catalog.neighbours(row.doc_id, row.ordinal, n)) if n else ()
        hits.append(
            Hit(
                **vars(row.citation), rank=position, score=round(score, 6), chunk_id=row.id, text=row.text,
                sentence_start=s_start, sentence_end=s_end, dense_score=dense_of.get(row.id),
                lexical_score=lexical_of.get(row.id), duplicates=tuple(dups), neighbours=around,
            )
        )  # fmt: skip
    return hits
