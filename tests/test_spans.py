"""Sentence vectors beside passage vectors (qa/spans.py): their spans, their ids, and how a
dense search scores a passage by the best of its vectors (real model, real FAISS)."""

from __future__ import annotations

import itertools

import numpy as np

from qa import Library
from qa.retrieval import dense_candidates
from qa.spans import SLOTS, all_slots, best_per_chunk, sentence_spans, vector_ids


def test_sentence_spans_are_the_sentences_of_a_passage_of_two_or_more() -> None:
    assert sentence_spans("Only one sentence here.") == []
    text = "First one. Second one? Third!"
    assert [text[a:b] for a, b in sentence_spans(text)] == ["First one.", "Second one?", "Third!"]


def test_many_short_sentences_merge_into_the_free_slots_in_order() -> None:
    text = " ".join(f"Item {i}." for i in range(40))
    spans = sentence_spans(text)
    assert len(spans) == SLOTS - 1
    assert spans[0][0] == 0 and spans[-1][1] == len(text)  # every sentence is in one span
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(spans))  # in order, no overlap
    assert text[slice(*spans[0])] == "Item 0. Item 1. Item 2."  # 40 sentences in 15 groups of 2-3


def test_vector_ids_encode_their_passage() -> None:
    assert vector_ids(7, 3).tolist() == [7 * SLOTS, 7 * SLOTS + 1, 7 * SLOTS + 2]
    assert sorted(all_slots([2])) == list(range(2 * SLOTS, 3 * SLOTS))
    ids = np.array([3 * SLOTS + 2, 5 * SLOTS, 3 * SLOTS, 9 * SLOTS + 1, -1])
    scores = np.array([0.9, 0.8, 0.7, 0.6, -np.inf])
    # a passage's best vector is its first hit; the order is kept; -1 (no result) is dropped
    assert best_per_chunk(ids, scores, 10) == [(3, 0.9), (5, 0.8), (9, 0.6)]
    assert best_per_chunk(ids, scores, 2) == [(3, 0.9), (5, 0.8)]


def test_a_passage_scores_the_best_of_its_own_and_its_sentences_vectors(seed_library: Library) -> None:
    view = seed_library.view()
    rows = view.catalog.db.execute("SELECT id, text FROM chunks").fetchall()
    chunk_id, text = max(rows, key=lambda r: len(sentence_spans(r[1])))
    spans = sentence_spans(text)
    assert len(spans) >= 3
    question = text[slice(*spans[len(spans) // 2])]  # a sentence from the middle of the passage
    query = seed_library.encoder.encode_query(question)
    own = float(view.vectors.reconstruct(chunk_id * SLOTS) @ query)
    best = max(float(view.vectors.reconstruct(i) @ query) for i in vector_ids(chunk_id, 1 + len(spans)))
    assert best > own  # the sentence's own vector matches it better than the whole passage's
    found = dict(dense_candidates(view.vectors, query, 5, None))
    assert abs(found[chunk_id] - best) < 1e-5
    # A date filter that keeps only this passage's document still scores it by its sentences.
    (doc,) = view.catalog.db.execute("SELECT doc_id FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
    allowed = [c for (c,) in view.catalog.db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc,))]
    only = dense_candidates(view.vectors, query, 5, allowed)
    assert only[0][0] == chunk_id and abs(only[0][1] - best) < 1e-5
    assert {c for c, _ in only} <= set(allowed)
