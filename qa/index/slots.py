"""Passage vectors and sentence vectors in one FAISS index.

Every passage has its own vector, and, when it holds two sentences or more, one vector per
sentence: the mean of the passage's token vectors inside that sentence, from the same forward
pass (`embeddings.Encoder.encode_with_spans`), so a sentence is read in its passage's context
and costs no extra encoding. A question that asks about one sentence of a passage matches that
sentence's vector better than the passage's: dense nDCG@10 on detail questions 0.56 -> 0.73,
on the headlines 0.825 -> 0.837 (docs/benchmarks/retrieval.md).

Vector ids encode their passage: `chunk_id * SLOTS + k`, k = 0 for the passage's own vector and
1..SLOTS-1 for its sentences, so removing or filtering passages needs no second table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from embeddings.encoder import Span
from qa.text import split_sentences

SLOTS = 16  # vector ids per passage: its own and up to 15 sentence groups


def sentence_spans(text: str, sentences: list[Span] | None = None) -> list[Span]:
    """The character spans that get a vector of their own in a passage: its sentences, none for a
    one-sentence passage (its own vector is that sentence), adjacent ones merged to fit the slots.
    `sentences`: split_sentences(text), when the caller has it already."""
    spans = split_sentences(text) if sentences is None else sentences
    if len(spans) < 2:
        return []
    groups = SLOTS - 1
    if len(spans) > groups:  # a list or table cut into many short "sentences": merge neighbours
        edges = np.linspace(0, len(spans), groups + 1).round().astype(int).tolist()
        spans = [(spans[a][0], spans[b - 1][1]) for a, b in itertools.pairwise(edges) if b > a]
    return spans


def vector_ids(chunk_id: int, count: int) -> np.ndarray:
    """The ids of a passage's `count` vectors (its own first)."""
    return chunk_id * SLOTS + np.arange(count, dtype=np.int64)


def all_slots(chunk_ids: Iterable[int]) -> np.ndarray:
    """Every id the vectors of these passages may have (absent ones are ignored by FAISS)."""
    ids = np.fromiter(chunk_ids, dtype=np.int64)
    return (ids[:, None] * SLOTS + np.arange(SLOTS, dtype=np.int64)).ravel()


def best_per_chunk(ids: np.ndarray, scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """(chunk id, best score of its vectors) for the first `n` passages, from search results
    sorted best first; ids < 0 (fewer results than asked) are skipped."""
    keep = ids >= 0
    chunks, values = ids[keep] // SLOTS, scores[keep]
    _, first = np.unique(chunks, return_index=True)  # the first hit of a passage is its best
    first.sort()
    first = first[:n]
    return list(zip(chunks[first].tolist(), values[first].astype(np.float64).tolist(), strict=True))
