"""Fusion: one score per candidate passage from the dense and lexical rankings, lifted by how well
its whole document matches and by the dates a question names. The weights are measured:
docs/benchmarks/retrieval.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

RRF_K = 60  # only for Weights(fusion="rrf"); the default fusion blends scaled scores
Ranking = list[tuple[int, float]]


@dataclass(frozen=True)
class Weights:
    """How rankings are combined; the defaults are the measured ones (docs/benchmarks/retrieval.md)."""

    fusion: str = "convex"  # "convex": weighted sum of min-max scaled scores; "rrf": reciprocal rank fusion
    dense: float = 0.6  # weight of the dense side (convex: the lexical side gets 1 - dense)
    lexical: float = 1.0  # rrf only: weight of the lexical ranking
    rrf_k: int = RRF_K
    doc_lexical: float = 0.8  # weight of the whole document's BM25, as a share of the best candidate document's
    doc_dense: float = 0.8  # weight of the cosine of the query to the document's vector
    date_boost: float = 0.1  # added to passages of documents inside the date range a question names
    conversation_boost: float = 0.3  # added to passages of the documents the turn before quoted (a follow-up)
    # The lexical side's weight shrinks, (1 - dense) * (c / coverage) ** coverage_power, when its best
    # passage holds a share c < coverage of the question's BM25 ceiling (Lifts.coverage).
    coverage: float = 0.4
    coverage_power: float = 0.5


DEFAULT = Weights()


def fuse(rankings: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K, weights: Sequence[float] = ()) -> Ranking:
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


def dense_share(weights: Weights, coverage: float) -> float:
    """The dense side's weight in the blend for one question, from how much of the question the
    best lexical passage holds (`coverage`, its share of the BM25 ceiling).

    Min-max scaling gives the lexical side's best passage 1.0 whether it matches the question's
    rare words or one common word of a long description; when it holds little of the question,
    the lexical ranking is weak evidence and the dense side decides more. Measured over five IR
    collections and three news question sets (docs/benchmarks/retrieval.md): medical questions
    written as descriptions gain most (+0.013 nDCG@10), the rest hold.
    """
    if weights.coverage <= 0 or coverage >= weights.coverage:
        return weights.dense
    return 1 - (1 - weights.dense) * (max(coverage, 0.0) / weights.coverage) ** weights.coverage_power


def combine(
    dense: Ranking, lexical: Ranking, mode: str, weights: Weights, coverage: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate passage ids, one score each) from the rankings the mode uses."""
    if mode != "hybrid":
        return scaled(dense if mode == "dense" else lexical)
    if weights.fusion == "rrf":
        fused = fuse([dense, lexical], weights.rrf_k, (1.0, weights.lexical))
        return np.array([c for c, _ in fused], dtype=np.int64), np.array([s for _, s in fused], dtype=np.float64)
    (d_ids, d), (l_ids, lx) = scaled(dense), scaled(lexical)
    ids = np.union1d(d_ids, l_ids)  # a passage missing from one side scores 0 there
    scores = np.zeros(len(ids))
    share = dense_share(weights, coverage)
    scores[np.searchsorted(ids, d_ids)] += share * d
    scores[np.searchsorted(ids, l_ids)] += (1 - share) * lx
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


@dataclass(frozen=True)
class Lifts:
    """What a search knows besides the two rankings: each document's score (`document_scores`),
    the documents `preferred` for lying in the dates the question names, the share of the
    question's BM25 ceiling its best lexical passage holds (`coverage`, 1 when unknown), and the
    documents a follow-up's conversation quoted (`conversation`)."""

    doc_scores: Mapping[int, float] | None = None
    preferred: AbstractSet[int] | None = None
    coverage: float = 1.0
    conversation: AbstractSet[int] | None = None


def rank(
    dense: Ranking, lexical: Ranking, doc_of: Mapping[int, int], mode: str = "hybrid", weights: Weights = DEFAULT,
    lifts: Lifts = Lifts(),
) -> Ranking:  # fmt: skip
    """Passages in final order: fused, then lifted by their document's score, by date, and by the
    conversation's documents."""
    ids, values = combine(dense, lexical, mode, weights, lifts.coverage)
    doc_scores = lifts.doc_scores
    lifted = ((lifts.preferred, weights.date_boost), (lifts.conversation, weights.conversation_boost))
    boosts = [(chosen, boost) for chosen, boost in lifted if chosen and boost]
    if doc_scores or boosts:
        docs = [doc_of.get(c, -1) for c in ids.tolist()]
        if doc_scores:
            values = values + np.fromiter((doc_scores.get(d, 0.0) for d in docs), dtype=np.float64, count=len(docs))
        for chosen, boost in boosts:
            values = values + boost * np.fromiter((d in chosen for d in docs), dtype=np.float64, count=len(docs))
    order = np.lexsort((ids, -values))  # best first, ties by chunk id
    return list(zip(ids[order].tolist(), values[order].tolist(), strict=True))
