"""In-memory BM25 (qa/index/lexicon.py): tokens, weights worked out by hand and against bm25s, top-n."""

from __future__ import annotations

import math
import random

import bm25s
import numpy as np
import pytest

from qa.index.lexicon import Postings, bag, query_terms, tokens


def postings(texts: list[list[str]], k1: float = 1.2, b: float = 0.75) -> tuple[Postings, dict[str, int]]:
    ids: dict[str, int] = {}
    for words in texts:
        for w in words:
            ids.setdefault(w, len(ids) + 1)  # ids start at 1, as the vocabulary table's do
    bags = [bag(words, ids) for words in texts]
    return Postings.build([10 * (i + 1) for i in range(len(texts))], bags, len(ids) + 1, k1, b), ids


def test_tokens_stem_fold_and_drop() -> None:
    assert tokens("The Elections were RUNNING; Trump's café, naïve résumé 2016 U.S. A") == [
        "elect", "run", "trump", "cafe", "naiv", "resum", "2016",
    ]  # fmt: skip
    assert tokens("elected") == tokens("elections") == ["elect"]
    assert tokens("the of and a") == []
    assert query_terms("voting rights: votes and vote counts") == {"vote": 1 + math.log(3), "right": 1.0, "count": 1.0}
    assert len(query_terms(" ".join(f"w{i}" for i in range(500)))) == 64


def test_query_weights_multiply_a_terms_postings() -> None:
    p, ids = postings([["a", "b"], ["b", "c"], ["a", "a", "c"]])
    plain = p.scores([ids["a"], ids["c"]])
    np.testing.assert_allclose(p.scores({ids["a"]: 2.0, ids["c"]: 1.0}), plain + p.scores([ids["a"]]), rtol=1e-6)
    assert p.top({ids["b"]: 0.5}, 5) == [(i, s / 2) for i, s in p.top([ids["b"]], 5)]


def test_bm25_weights_by_hand() -> None:
    # Three rows; lengths 3, 2, 4 (average 3). "a" is in rows 0 and 2, "c" in rows 1 and 2.
    p, ids = postings([["a", "b", "b"], ["b", "c"], ["c", "d", "e", "a"]])
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # both terms are in 2 of 3 rows

    def tf_part(tf: int, length: int) -> float:
        return tf / (tf + 1.2 * (0.25 + 0.75 * length / 3))

    expected = [idf * tf_part(1, 3), idf * tf_part(1, 2), idf * tf_part(1, 4) * 2]
    assert p.scores([ids["a"], ids["c"]]) == pytest.approx(expected, rel=1e-6)
    top = p.top([ids["a"], ids["c"]], 2)
    assert [i for i, _ in top] == [30, 20] and [s for _, s in top] == pytest.approx([expected[2], expected[1]])
    assert p.top([ids["b"]], 5)[0][0] == 10  # twice in the shortest row
    assert p.top([], 5) == [] and p.top([999], 5) == []  # no terms, an unknown term id
    allowed = p.mask([10, 20])
    assert [i for i, _ in p.top([ids["a"], ids["c"]], 5, allowed)] == [20, 10]
    assert p.scores_of([ids["a"]], [10, 20, 30, 77]) == pytest.approx({10: expected[0], 30: idf * tf_part(1, 4)})


def test_bm25_matches_bm25s_lucene() -> None:
    rng = random.Random(5)
    vocab = [f"t{i}" for i in range(60)]
    texts = [[rng.choice(vocab[: rng.randint(5, 60)]) for _ in range(rng.randint(1, 40))] for _ in range(200)]
    for k1, b in ((1.2, 0.75), (0.9, 0.4)):
        p, ids = postings(texts, k1, b)
        reference = bm25s.BM25(method="lucene", k1=k1, b=b)
        reference.index(texts, show_progress=False)
        for _ in range(20):
            query = rng.sample(vocab, 3)
            np.testing.assert_allclose(p.scores([ids[w] for w in query if w in ids]), reference.get_scores(query), rtol=1e-5)


def test_ties_break_by_row_and_top_is_cut() -> None:
    p, ids = postings([["x"], ["x"], ["x"], ["y"]])
    assert [i for i, _ in p.top([ids["x"]], 2)] == [10, 20]


def test_ceiling_bounds_every_score() -> None:
    p, ids = postings([["a", "a", "a", "b"], ["b", "c"], ["c", "d", "e", "a"]])
    query = {ids["a"]: 2.0, ids["c"]: 1.0, 999: 5.0}  # an unknown term id adds nothing
    ceiling = p.ceiling(query)
    assert ceiling == pytest.approx(2 * p.idf[ids["a"]] + p.idf[ids["c"]], rel=1e-6)
    assert 0 < p.scores(query).max() < ceiling
    assert p.ceiling({}) == 0.0


def test_scores_of_equals_scoring_every_row() -> None:
    rng = random.Random(9)
    vocab = [f"t{i}" for i in range(40)]
    texts = [[rng.choice(vocab[: rng.randint(3, 40)]) for _ in range(rng.randint(1, 30))] for _ in range(300)]
    p, ids = postings(texts)
    for _ in range(20):
        query = {ids[w]: rng.choice([1.0, 1.5]) for w in rng.sample(vocab, 4) if w in ids}
        wanted = [*rng.sample([10 * (i + 1) for i in range(300)], 50), 7, 10**6]  # two ids that are no row
        every = p.scores(query)
        expected = {i: float(every[i // 10 - 1]) for i in wanted if i % 10 == 0 and i <= 3000 and every[i // 10 - 1] > 0}
        assert p.scores_of(query, wanted) == expected  # the same float32 sums, bit for bit
