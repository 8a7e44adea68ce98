"""Fusion, document scores, date preference and near-duplicate collapse (qa/search/fusion.py, dedupe.py, retrieve.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from qa import Library
from qa.index.slots import SLOTS
from qa.search.dedupe import Collapser, near_duplicate, repeats, shingles
from qa.search.fusion import Lifts, Weights, dense_share, document_scores, fuse, rank
from qa.search.retrieve import best_sentence, date_window

from .conftest import BIDEN, PESKOV

PLAIN = Weights(dense=0.5, date_boost=0.0)  # the blends below are worked out by hand for half and half
HALF = Weights(doc_lexical=0.5, doc_dense=0.5, date_boost=0.0)


def test_fuse_is_weighted_reciprocal_rank() -> None:
    # chunk 1: 1/(10+1) + 2/(10+2) = 0.0909 + 0.1667 = 0.2576; chunk 2: 1/(10+2) = 0.0833; chunk 3: 2/(10+1) = 0.1818
    got = dict(fuse([[(1, 0.9), (2, 0.8)], [(3, 5.0), (1, 4.0)]], k=10, weights=(1.0, 2.0)))
    assert got == pytest.approx({1: 1 / 11 + 2 / 12, 2: 1 / 12, 3: 2 / 11})


def test_rank_single_modes_keep_their_order_and_hybrid_blends_scaled_scores() -> None:
    dense, lexical = [(1, 0.9), (2, 0.8), (3, 0.75), (5, 0.7)], [(3, 9.0), (2, 8.0), (4, 1.0)]
    doc_of = {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
    assert [c for c, _ in rank(dense, lexical, doc_of, "dense", PLAIN)] == [1, 2, 3, 5]
    assert [c for c, _ in rank(dense, lexical, doc_of, "keyword", PLAIN)] == [3, 2, 4]
    # scaled dense 1: 1, 2: 0.5, 3: 0.25; scaled lexical 3: 1, 2: 0.875, 4: 0; blended half and half:
    # 2: 0.25 + 0.4375 = 0.6875, 3: 0.125 + 0.5 = 0.625, 1: 0.5, 4 and 5: 0 (ties go by chunk id)
    got = rank(dense, lexical, doc_of, "hybrid", PLAIN)
    assert [c for c, _ in got] == [2, 3, 1, 4, 5]
    assert [s for _, s in got] == pytest.approx([0.6875, 0.625, 0.5, 0.0, 0.0])


def test_document_scores_lift_every_passage_of_a_document_matching_as_a_whole() -> None:
    # worked with both document weights at 0.5 (the defaults are measured and may move)
    # chunk 1 (doc A) is the single best passage; doc B's text as a whole matches better
    lexical = [(1, 10.0), (2, 9.8), (3, 0.0)]
    doc_of = {1: 100, 2: 200, 3: 300}
    assert rank([], lexical, doc_of, "keyword", HALF)[0][0] == 1
    docs = document_scores({100: 3.0, 200: 6.0, 300: 1.5}, {100: 0.9, 200: 0.2}, "keyword", HALF)
    # keyword mode reads the documents' BM25 only, as a share of the best: 0.5 x (1/2, 1, 1/4)
    assert docs == pytest.approx({100: 0.25, 200: 0.5, 300: 0.125})
    assert [c for c, _ in rank([], lexical, doc_of, "keyword", HALF, Lifts(doc_scores=docs))] == [2, 1, 3]
    # dense mode reads the cosines only (weight 0.5), hybrid both
    assert document_scores({100: 3.0, 200: 6.0}, {100: 0.9, 200: 0.2}, "dense", HALF) == pytest.approx({100: 0.45, 200: 0.1})
    both = document_scores({100: 3.0, 200: 6.0}, {100: 0.9, 200: 0.2}, "hybrid", HALF)
    assert both == pytest.approx({100: 0.7, 200: 0.6})
    # two candidate documents whose texts match about equally stay about equal (no min-max stretching)
    close = document_scores({100: 5.0, 200: 4.9}, {}, "keyword", HALF)
    assert close[100] - close[200] == pytest.approx(0.5 * 0.1 / 5.0)


def test_document_evidence_reads_whole_texts_and_document_vectors(seed_library: Library) -> None:
    view = seed_library.view()
    catalog, lookup = view.catalog, view.catalog.lookup()
    docs = dict(catalog.db.execute("SELECT path, id FROM documents"))
    ids = set(docs.values())
    chunks = dict(catalog.db.execute("SELECT id, doc_id FROM chunks"))
    assert lookup.documents_of([*chunks, 10**9]) == chunks  # an unknown chunk id is left out
    query = seed_library.encoder.encode_query("Biden Putin phone call")
    # a document's vector is the normalised mean of its passages' vectors
    for doc in ids:
        mean = sum(view.vectors.reconstruct(c * SLOTS) for c, d in chunks.items() if d == doc)
        mean = mean / (mean @ mean) ** 0.5
        assert lookup.cosines(query, [doc]) == pytest.approx({doc: float(mean @ query)}, abs=1e-5)
    assert lookup.cosines(query, [10**9]) == {}
    # whole-document BM25: both seeds name Biden and Putin; the top-n cut applies
    lexicon = catalog.lexicon()
    words = lexicon.ids_of("Biden Putin phone call")
    top = dict(lexicon.documents.top(words, 10))
    assert set(top) == ids and all(s > 0 for s in top.values())
    assert len(lexicon.documents.top(words, 1)) == 1
    assert lexicon.ids_of("croissants") == {}


def test_date_boost_prefers_documents_in_the_named_range() -> None:
    lexical = [(1, 10.0), (2, 9.95), (3, 0.0)]
    doc_of = {1: 100, 2: 200, 3: 300}
    assert rank([], lexical, doc_of, "keyword", Weights(date_boost=0.1), Lifts(preferred={200}))[0][0] == 2
    assert rank([], lexical, doc_of, "keyword", Weights(date_boost=0.1), Lifts(preferred=set()))[0][0] == 1


@pytest.mark.parametrize("direct", [Collapser.DIRECT, 0], ids=["set intersections", "inverted index"])
def test_collapser_agrees_with_pairwise_near_duplicate(direct: int) -> None:
    texts = [
        "Putin warned that new sanctions would be a colossal mistake, the Kremlin said on Friday.",
        "The Kremlin said on Friday that Putin warned new sanctions would be a colossal mistake.",
        "Putin warned that new sanctions would be a colossal mistake, the Kremlin said on Friday evening.",
        "Talks in Geneva are planned for January 10 between Russian and American officials.",
    ]
    collapser = Collapser()
    collapser.DIRECT = direct
    kept: list[set[tuple[str, ...]]] = []
    for text in texts:
        triples = shingles(text)
        pairwise = next((i for i, other in enumerate(kept) if near_duplicate(other, triples)), None)
        assert collapser.twin(triples) == pairwise, text
        if pairwise is None:
            collapser.keep(triples)
            kept.append(triples)
    # the second shares 4 of its 6 word triples with the first, the third all 6: most of them, but
    # too few to be a copied run of text; the fourth shares nothing
    assert len(kept) == 4
    long_quote = " ".join(texts[:2] + texts[3:]) + " The ministry gave no further details on Saturday."
    assert near_duplicate(shingles(long_quote), shingles(long_quote + " Officials declined to comment."))


def test_a_copy_repeats_at_least_a_sentence() -> None:
    assert not repeats(4, 6, 60) and not repeats(6, 6, 60)  # a title's triples, even all of them: not a copy
    assert repeats(10, 16, 60) and not repeats(10, 17, 60)  # a sentence's worth, and most of the shorter passage
    assert not repeats(9, 12, 60)  # most of it, but less than a sentence


def test_date_window_explicit_dates_win(seed_library: Library) -> None:
    catalog = seed_library.view().catalog
    window = date_window(catalog, "What did Biden say on December 30?", dt.date(2021, 12, 31), None)
    assert (window.since, window.until, window.strict) == (dt.date(2021, 12, 31), None, True)


def test_date_window_from_the_question_is_relative_to_the_newest_document(seed_library: Library) -> None:
    catalog = seed_library.view().catalog
    window = date_window(catalog, "What did the Kremlin say on December 30?", None, None)
    # the newest seed is dated 2021-12-31, so a year-less December 30 is 2021-12-30
    assert (window.since, window.until, window.strict) == (dt.date(2021, 12, 30), dt.date(2021, 12, 30), False)
    assert 'from "on December 30"' in window.note
    assert date_window(catalog, "Who requested the call?", None, None).note == ""


def test_named_date_prefers_but_never_drops(seed_library: Library) -> None:
    question = "Biden Putin call about Ukraine"
    plain = {h.source for h in seed_library.retrieve(question, k=10)}
    dated = seed_library.retrieve(question + " on December 30", k=10)
    assert {h.source for h in dated} == plain == {BIDEN, PESKOV}  # nothing filtered out
    assert dated[0].date == dt.date(2021, 12, 30)
    only = seed_library.retrieve(question, k=10, since="2021-12-31")  # explicit: a filter
    assert {h.source for h in only} == {BIDEN}


PUTIN = "Biden spoke first. Putin warned of sanctions on Friday. Talks follow."


@pytest.mark.parametrize(
    ("text", "question", "expected"),
    [
        (PUTIN, "Putin sanctions", "Putin warned of sanctions on Friday."),
        (PUTIN, "croissants", "Biden spoke first."),
        ("Putin spoke. Putin spoke again.", "What did Putin say?", "Putin spoke."),  # ties: the first
        ("İstanbul hosted talks. The Kremlin’s envoy met Erdoğan.", "kremlin's envoy", "The Kremlin’s envoy met Erdoğan."),
        ("The KREMLIN'S envoy arrived. Nothing else.", "Kremlin’s envoy", "The KREMLIN'S envoy arrived."),
    ],
)
def test_best_sentence_is_the_one_sharing_most_question_words(text: str, question: str, expected: str) -> None:
    start, end = best_sentence(text, question)
    assert text[start:end] == expected


def test_lexical_weight_shrinks_when_its_best_passage_holds_little_of_the_question() -> None:
    w = Weights(dense=0.6, coverage=0.4, coverage_power=0.5)
    assert dense_share(w, 1.0) == dense_share(w, 0.4) == 0.6  # a strong lexical match keeps the fixed blend
    assert dense_share(w, 0.1) == pytest.approx(1 - 0.4 * 0.5)  # a quarter of the threshold: half the lexical weight
    assert dense_share(w, 0.0) == 1.0 and dense_share(Weights(coverage=0), 0.0) == Weights().dense
    dense, lexical = [(1, 0.9), (2, 0.5)], [(3, 7.0), (1, 1.0)]
    strong = rank(dense, lexical, {}, "hybrid", w, Lifts(coverage=0.9))
    weak = rank(dense, lexical, {}, "hybrid", w, Lifts(coverage=0.0))
    assert [c for c, _ in strong] == [1, 3, 2] and dict(strong)[3] == pytest.approx(0.4)
    assert [c for c, _ in weak] == [1, 2, 3] and dict(weak)[3] == 0.0  # only the dense side counts
    assert rank([], lexical, {}, "keyword", w, Lifts(coverage=0.0)) == rank([], lexical, {}, "keyword", w)
