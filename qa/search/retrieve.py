"""Hybrid retrieval: dense (FAISS) and lexical (BM25, qa/index/lexicon.py) candidate passages, their scores scaled
and blended, each lifted by how well its whole document matches (BM25 of the document's text, cosine
to the document's vector), nudged towards the dates a question names, near-duplicates collapsed.
The weights are measured: docs/benchmarks/retrieval.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embeddings import VectorIndex
from qa import config
from qa.index.catalog import Catalog, ChunkRow
from qa.index.lexicon import Lexicon
from qa.index.slots import all_slots, best_per_chunk
from qa.search.dates import parse_question_dates
from qa.text import ASCII_WORD, split_sentences, terms
from qa.types import Chunk, Citation, Hit

MODES = ("hybrid", "dense", "keyword")

Ranking = list[tuple[int, float]]


@dataclass(frozen=True)
class Weights:
    """How rankings are combined; the defaults are the measured ones (docs/benchmarks/retrieval.md)."""

    fusion: str = "convex"  # "convex": weighted sum of min-max scaled scores; "rrf": reciprocal rank fusion
    dense: float = 0.6  # weight of the dense side (convex: the lexical side gets 1 - dense)
    lexical: float = 1.0  # rrf only: weight of the lexical ranking
    rrf_k: int = config.RRF_K
    doc_lexical: float = 0.8  # weight of the whole document's BM25, as a share of the best candidate document's
    doc_dense: float = 0.8  # weight of the cosine of the query to the document's vector
    date_boost: float = 0.1  # added to passages of documents inside the date range a question names


DEFAULT = Weights()


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
    scores, ids = vectors.search(query, n * config.VECTORS_PER_CANDIDATE, ids_allowed)
    return best_per_chunk(ids[0], scores[0], n)


def fuse(rankings: Sequence[Sequence[tuple[int, float]]], k: int = config.RRF_K, weights: Sequence[float] = ()) -> Ranking:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the rankings a chunk is in."""
    fused: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        w = weights[i] if i < len(weights) else 1.0
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def scaled(ranking: Ranking) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores min-max scaled to [0, 1]) of one ranking: cosines and BM25 are not comparable raw."""
    ids = np.fromiter((c for c, _ in ranking), dtype=np.int64, count=len(ranking))
    scores = np.fromiter((s for _, s in ranking), dtype=np.float64, count=len(ranking))
    if not len(scores):
        return ids, scores
    lo, hi = scores.min(), scores.max()
    return ids, (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)


def combine(dense: Ranking, lexical: Ranking, mode: str, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """(candidate passage ids, one score each) from the rankings the mode uses."""
    if mode != "hybrid":
        return scaled(dense if mode == "dense" else lexical)
    if weights.fusion == "rrf":
        fused = fuse([dense, lexical], weights.rrf_k, (1.0, weights.lexical))
        return np.array([c for c, _ in fused], dtype=np.int64), np.array([s for _, s in fused], dtype=np.float64)
    (d_ids, d), (l_ids, lx) = scaled(dense), scaled(lexical)
    ids = np.union1d(d_ids, l_ids)  # a passage missing from one side scores 0 there
    scores = np.zeros(len(ids))
    scores[np.searchsorted(ids, d_ids)] += weights.dense * d
    scores[np.searchsorted(ids, l_ids)] += (1 - weights.dense) * lx
    return ids, scores


def document_scores(lexical: Mapping[int, float], dense: Mapping[int, float], mode: str, weights: Weights) -> dict[int, float]:
    """What each candidate document adds to every one of its passages: its whole text's BM25 as a
    share of the best document's, and the cosine of the query to its vector, each weighted.

    A passage is short; whether its document as a whole is about the question is evidence a single
    passage cannot carry (measured: docs/benchmarks/retrieval.md). Neither side is min-max scaled:
    among two or three candidate documents that would turn a small difference into the whole range.
    """
    out: dict[int, float] = defaultdict(float)
    if mode != "dense" and weights.doc_lexical and lexical:
        best = max(lexical.values())
        for doc, s in lexical.items():
            out[doc] += weights.doc_lexical * (s / best if best > 0 else 0.0)
    if mode != "keyword" and weights.doc_dense:
        for doc, s in dense.items():
            out[doc] += weights.doc_dense * s
    return dict(out)


def rank(
    dense: Ranking,
    lexical: Ranking,
    doc_of: Mapping[int, int],
    mode: str = "hybrid",
    weights: Weights = DEFAULT,
    preferred: set[int] | None = None,
    doc_scores: Mapping[int, float] | None = None,
) -> Ranking:
    """Passages in final order: fused, then lifted by their document's score, then by date."""
    ids, values = combine(dense, lexical, mode, weights)
    if doc_scores or (preferred and weights.date_boost):
        docs = [doc_of.get(c, -1) for c in ids.tolist()]
        if doc_scores:
            values = values + np.fromiter((doc_scores.get(d, 0.0) for d in docs), dtype=np.float64, count=len(docs))
        if preferred and weights.date_boost:
            values = values + weights.date_boost * np.fromiter((d in preferred for d in docs), dtype=np.float64, count=len(docs))
    order = np.lexsort((ids, -values))  # best first, ties by chunk id
    return list(zip(ids[order].tolist(), values[order].tolist(), strict=True))


def lexical_candidates(lexicon: Lexicon, terms: list[int], n: int, allowed: Sequence[int] | None) -> Ranking:
    """The n best passages by BM25 for the question's term ids, among `allowed` chunk ids when given."""
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


@functools.lru_cache(maxsize=1024)
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    """A passage's word triples. Cached: the passages near the top of one question's list are
    often near the top of the next (~30 µs each, 20 a question; ~8 kB an entry)."""
    words = terms(text)
    return frozenset(zip(words, words[1:], words[2:], strict=False)) if len(words) > 2 else frozenset({tuple(words)})


def near_duplicate(a: AbstractSet[tuple[str, ...]], b: AbstractSet[tuple[str, ...]], threshold: float = 0.6) -> bool:
    """True when two passages share most of their word triples (news repeats quotes verbatim)."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold


class Collapser:
    """Keeps the first of each group of near-duplicate passages. Against a few kept passages a set
    intersection each is fastest; past DIRECT of them an inverted index of word triples finds the
    twin in one pass instead of comparing every pair (qa eval keeps 200)."""

    DIRECT = 16

    def __init__(self, threshold: float = 0.6):
        self.threshold = threshold
        self.kept: list[frozenset[tuple[str, ...]]] = []
        self.owners: dict[tuple[str, ...], list[int]] = defaultdict(list)

    def twin(self, shingles: frozenset[tuple[str, ...]]) -> int | None:
        """Index of the kept passage this one nearly repeats (the first kept, when several), or None."""
        if len(self.kept) <= self.DIRECT:
            for i, kept in enumerate(self.kept):
                if len(shingles & kept) / max(1, min(len(shingles), len(kept))) >= self.threshold:
                    return i
            return None
        if not self.owners:  # built once past DIRECT kept: a question's top 5 never needs it
            for i, kept in enumerate(self.kept):
                self._own(i, kept)
        shared = Counter(i for s in shingles for i in self.owners.get(s, ()))
        for i, n in sorted(shared.items()):
            if n / max(1, min(len(shingles), len(self.kept[i]))) >= self.threshold:
                return i
        return None

    def keep(self, shingles: frozenset[tuple[str, ...]]) -> None:
        if self.owners:
            self._own(len(self.kept), shingles)
        self.kept.append(shingles)

    def _own(self, i: int, shingles: frozenset[tuple[str, ...]]) -> None:
        for s in shingles:
            self.owners[s].append(i)


def to_chunk(row: ChunkRow) -> Chunk:
    return Chunk(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Chunk)})


def search(
    catalog: Catalog,
    vectors: VectorIndex,
    encoder: QueryEncoder | None,
    question: str,
    k: int = config.DEFAULT_K,
    since: dt.date | None = None,
    until: dt.date | None = None,
    mode: str = "hybrid",
    neighbours: int = 0,
    weights: Weights = DEFAULT,
    window: DateWindow | None = None,
) -> list[Hit]:
    """Top-k passages for `question`, near-duplicates collapsed, each with its citation.

    `window` is the date range from `date_window`, when the caller has already worked it out.
    """
    if window is None:
        window = date_window(catalog, question, since, until)
    n = max(config.CANDIDATES, k)  # not more for a larger k: the top of the list must not depend on k
    strict = (window.since, window.until) if window.strict else (None, None)
    allowed = catalog.ids_in_dates(*strict) if any(strict) else None
    lexicon = catalog.lexicon()
    words = lexicon.ids_of(question) if mode in ("hybrid", "keyword") else []
    lexical = lexical_candidates(lexicon, words, n, allowed)
    query = encoder.encode_query(question) if mode in ("hybrid", "dense") and encoder is not None else None
    dense = dense_candidates(vectors, query, n, allowed) if query is not None else []
    lookup = catalog.lookup()
    doc_of = lookup.documents_of({i for i, _ in dense} | {i for i, _ in lexical})
    docs = set(doc_of.values())
    preferred = None
    if not window.strict:
        preferred = catalog.documents_dated(window.since, window.until) & docs
    doc_lexical = lexicon.documents.scores_of(words, docs) if words else {}
    doc_dense = lookup.cosines(query, docs) if query is not None else {}
    ranked = rank(dense, lexical, doc_of, mode, weights, preferred, document_scores(doc_lexical, doc_dense, mode, weights))
    rows = catalog.chunk_rows(c for c, _ in ranked[: 4 * k])
    dense_of, lexical_of = dict(dense), dict(lexical)
    collapser = Collapser()
    kept: list[tuple[ChunkRow, float, list[Citation]]] = []
    for chunk_id, score in ranked[: 4 * k]:  # past the k-th hit, only to find more twins
        row = rows.get(chunk_id)
        if row is None:
            continue
        shingles = _shingles(row.text)
        twin = collapser.twin(shingles)
        if twin is not None:
            kept[twin][2].append(row.citation)
        elif len(kept) < k:
            collapser.keep(shingles)
            kept.append((row, score, []))
    hits = []
    wanted = set(terms(question))
    for position, (row, score, dups) in enumerate(kept, start=1):
        s_start, s_end = best_sentence(row.text, wanted)
        around = tuple(to_chunk(r) for r in catalog.neighbours(row.doc_id, row.ordinal, neighbours)) if neighbours else ()
        hits.append(
            Hit(
                **vars(row.citation), rank=position, score=round(score, 6), chunk_id=row.id, text=row.text,
                sentence_start=s_start, sentence_end=s_end, dense_score=dense_of.get(row.id),
                lexical_score=lexical_of.get(row.id), duplicates=tuple(dups), neighbours=around,
            )
        )  # fmt: skip
    return hits
