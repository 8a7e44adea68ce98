"""Sentence vectors beside passage vectors (qa/index/slots.py): their spans, their ids, and how a
dense search scores a passage by the best of its vectors (real model, real FAISS)."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import numpy as np

from qa import Library
from qa.index.slots import SLOTS, all_slots, best_per_chunk, sentence_spans, vector_ids
from qa.index.vector_cache import VectorCache
from qa.search.retrieve import dense_candidates


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


def test_the_vector_cache_keeps_each_texts_vectors_in_float16_and_checks_them(tmp_path: Path) -> None:
    path = tmp_path / "vector-cache.sqlite"
    legacy = sqlite3.connect(path)  # an index of format 3: one float32 vector a text
    legacy.execute("CREATE TABLE vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL)")
    legacy.execute("INSERT INTO vectors VALUES ('old', ?)", (np.ones(8, np.float32).tobytes(),))
    legacy.commit()
    legacy.close()
    cache = VectorCache(path, dim=8)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 8)).astype(np.float32), rng.standard_normal((1, 8)).astype(np.float32)
    cache.put_many(["a", "b"], [a, b])
    got = cache.get_many(["a", "b", "old", "missing"])
    assert set(got) == {"a", "b"}  # the old table is gone: those texts are encoded again
    assert got["a"].shape == (3, 8) and got["a"].dtype == np.float32
    assert np.array_equal(got["a"], VectorCache.rounded(a)) and np.array_equal(got["b"], VectorCache.rounded(b))
    assert not np.array_equal(VectorCache.rounded(a), a) and np.abs(VectorCache.rounded(a) - a).max() < 1e-2
    (blob,) = cache.db.execute("SELECT vecs FROM vectors16 WHERE hash = 'a'").fetchone()
    assert len(blob) == 3 * 8 * 2 + 4  # float16 rows and a CRC-32
    cache.db.execute("UPDATE vectors16 SET vecs = ? WHERE hash = 'a'", (blob[:5] + bytes([blob[5] ^ 1]) + blob[6:],))
    cache.db.commit()
    assert set(cache.get_many(["a", "b"])) == {"b"}  # a row failing its CRC is encoded again
    cache.close()
