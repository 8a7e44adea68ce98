"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates fused by reciprocal rank."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from embeddings import VectorIndex
from qa import config
from qa.catalog import Catalog, ChunkRow
from qa.chunking import split_sentences
from qa.types import Chunk, Hit, Source

MODES = ("hybrid", "dense", "keyword")

# Dropped from keyword queries only: they match everything and carry no evidence.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours out over own said same say says she
    should so some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your""".split()
)
MAX_QUERY_TERMS = 64  # a pasted page must not become a thousand-term OR query
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


class QueryEncoder(Protocol):
    def encode_query(self, text: str) -> np.ndarray: ...


def terms(text: str) -> list[str]:
    """Lower-cased content words of `text`, in order, without stop words."""
    return [w for w in (m.group().lower().replace("’", "'") for m in _WORD.finditer(text)) if w not in STOPWORDS]


def fts_query(question: str) -> str:
    """An FTS5 OR-query of the question's content words, each quoted so no word acts as an operator."""
    words = list(dict.fromkeys(t.replace('"', "") for t in terms(question)))[:MAX_QUERY_TERMS]
    return " OR ".join(f'"{w}"' for w in words if w)


def dense_candidates(
    vectors: VectorIndex, query: np.ndarray, n: int, allowed: Sequence[int] | None
) -> list[tuple[int, float]]:
    if allowed is not None and not allowed:
        return []
    ids_allowed = np.asarray(allowed, dtype=np.int64) if allowed is not None else None
    scores, ids = vectors.search(query, n, ids_allowed)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def keyword_candidates(
    catalog: Catalog, question: str, n: int, since: dt.date | None, until: dt.date | None
) -> list[tuple[int, float]]:
    match = fts_query(question)
    return catalog.keyword_search(match, n, since, until) if match else []


def fuse(rankings: Sequence[Sequence[tuple[int, float]]], k: int = config.RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings a chunk appears in."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def best_sentence(text: str, question: str) -> tuple[int, int]:
    """Span (within `text`) of the sentence sharing the most question words; the first on ties."""
    spans = split_sentences(text) or [(0, len(text))]
    wanted = set(terms(question))
    return max(spans, key=lambda s: len(wanted & set(terms(text[s[0] : s[1]]))))


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = terms(text)
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def near_duplicate(a: set[tuple[str, ...]], b: set[tuple[str, ...]], threshold: float = 0.6) -> bool:
    """True when two passages share most of their word triples (news repeats quotes verbatim)."""
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold


def to_source(row: ChunkRow) -> Source:
    return Source(row.source, row.date, row.title, row.start, row.end, row.line_start, row.line_end, row.page)


def to_chunk(row: ChunkRow) -> Chunk:
    return Chunk(row.source, row.ordinal, row.start, row.end, row.line_start, row.line_end, row.text, row.page)


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
) -> list[Hit]:
    """Top-k passages for `question`, near-duplicates collapsed, each with its citation."""
    n = max(config.CANDIDATES, 4 * k)
    allowed = catalog.ids_in_dates(since, until) if (since or until) else None
    dense: list[tuple[int, float]] = []
    lexical: list[tuple[int, float]] = []
    if mode in ("hybrid", "dense") and encoder is not None:
        dense = dense_candidates(vectors, encoder.encode_query(question), n, allowed)
    if mode in ("hybrid", "keyword"):
        lexical = keyword_candidates(catalog, question, n, since, until)
    ranked = fuse([r for r in (dense, lexical) if r]) if mode == "hybrid" else (dense or lexical)
    dense_of, lexical_of = dict(dense), dict(lexical)
    rows = catalog.chunk_rows(i for i, _ in ranked[: 4 * k])
    kept: list[tuple[ChunkRow, float, set[tuple[str, ...]], list[Source]]] = []
    for chunk_id, score in ranked[: 4 * k]:
        row = rows.get(chunk_id)
        if row is None:
            continue
        shingles = _shingles(row.text)
        twin = next((entry for entry in kept if near_duplicate(entry[2], shingles)), None)
        if twin is not None:
            twin[3].append(to_source(row))
            continue
        if len(kept) < k:
            kept.append((row, score, shingles, []))
    hits = []
    for rank, (row, score, _, dups) in enumerate(kept, start=1):
        s_start, s_end = best_sentence(row.text, question)
        around = tuple(to_chunk(r) for r in catalog.neighbours(row.doc_id, row.ordinal, neighbours)) if neighbours else ()
        hits.append(
            Hit(
                rank=rank, score=round(score, 6), chunk_id=row.id, text=row.text, source=row.source, date=row.date,
                title=row.title, start=row.start, end=row.end, line_start=row.line_start, line_end=row.line_end,
                page=row.page, sentence_start=s_start, sentence_end=s_end, dense_score=dense_of.get(row.id),
                lexical_score=lexical_of.get(row.id), duplicates=tuple(dups), neighbours=around,
            )
        )  # fmt: skip
    return hits
