"""BM25 in memory: each chunk's and each document's stemmed term counts are stored in the catalog
at sync time (a "bag": term id, count pairs), and a read-only catalog turns them into posting
lists once. A query then sums a few precomputed columns instead of asking SQLite FTS5, which
scored every matching row on each call and took most of a search (docs/benchmarks/speed.md).
"""

from __future__ import annotations

import math
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import Stemmer

from qa.errors import IndexCorrupt
from qa.index.lookup import locate
from qa.text import STOPWORDS

# BM25 (k1: term-frequency saturation, b: length normalisation) of passages and of whole documents.
# Lucene's 1.2: k1 0.5 fit news questions that copy the article's words, where matching many words
# counts more than matching one often; on topical questions (the five IR collections) how often a
# passage uses a word is evidence, and 0.5 left keyword search below plain bm25s on four of five
# (docs/benchmarks/retrieval.md, "One BM25 for every collection").
BM25 = (1.2, 0.75)
DOC_BM25 = (1.2, 0.75)
SHORTEST_STEM = 5  # a held word this long or longer may stand for a longer form of it ("salvador", "salvadoran")
MAX_QUERY_TERMS = 64  # a pasted page must not become a thousand-term query
_BLOCK = 1 << 22  # postings weighed at a time when building
_WORD = re.compile(r"[^\W_]+")
_STEMMER = Stemmer.Stemmer("english")
_stems: dict[str, str] = {}
Ranking = list[tuple[int, float]]
Terms = Mapping[int, float] | Iterable[int]  # term id -> query weight, or term ids weighing 1 each


def _stem(word: str) -> str:
    stem = _stems.get(word)
    if stem is None:
        if len(_stems) > 1_000_000:  # unbounded input must not grow the cache without end
            _stems.clear()
        stem = _stems[word] = _STEMMER.stemWord(word)
    return stem


def tokens(text: str) -> list[str]:
    """Stemmed content words of `text`, in order: lower-cased, accents removed, split at anything
    that is not a letter or digit (so "Trump's" is "trump"), without stop words and lone letters."""
    low = text.lower()
    if not low.isascii():
        low = "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))
    return [_stem(w) for w in _WORD.findall(low) if w not in STOPWORDS and not (len(w) == 1 and w.isalpha())]


def query_terms(question: str) -> dict[str, float]:
    """The stemmed words of a question, first occurrence first, at most MAX_QUERY_TERMS, each
    weighted 1 + ln(times it occurs): a long question states its subject more than once
    ("titles ... titles ... titles"), and counting that doubled keyword nDCG@10 gains on the verbose
    collections (cisi +0.06, cacm +0.06); the logarithm keeps a repeated "use" or "effect" from
    outweighing a rare word, which a linear count did (docs/benchmarks/retrieval.md)."""
    counts = Counter(tokens(question))
    return {t: 1 + math.log(n) for t, n in list(counts.items())[:MAX_QUERY_TERMS]}


def bag(words: Iterable[str], ids: dict[str, int]) -> bytes:
    """Stored form of a text's term counts: int32 (term id, count) pairs. `ids` must hold every word."""
    counts = Counter(ids[w] for w in words)
    return np.array(sorted(counts.items()), dtype=np.int32).tobytes()


@dataclass(frozen=True)
class Postings:
    """BM25 weights of every (term, row) pair, grouped by term; a row is a chunk or a document."""

    ids: np.ndarray  # external id of each row (chunk or document id), ascending
    starts: np.ndarray  # postings of term t are [starts[t], starts[t + 1])
    rows: np.ndarray  # row index of each posting
    weights: np.ndarray  # BM25 weight of each posting: idf(t) * tf / (tf + k1 * length norm)
    idf: np.ndarray  # of each term id: the most one occurrence of it can weigh (a weight tends to it as tf grows)

    @classmethod
    def build(cls, ids: Sequence[int], bags: Sequence[bytes], n_terms: int, k1: float, b: float) -> Postings:
        """Postings of rows given as stored bags (`bag`), one per id."""
        pairs = np.frombuffer(b"".join(bags), dtype=np.int32).reshape(-1, 2)
        sizes = np.array([len(x) // 8 for x in bags], dtype=np.int64)
        return cls.from_pairs(np.asarray(ids, dtype=np.int64), pairs, sizes, n_terms, (k1, b))

    @classmethod
    def from_pairs(
        cls, ids: np.ndarray, pairs: np.ndarray, sizes: np.ndarray, n_terms: int, bm25: tuple[float, float]
    ) -> Postings:
        """Postings of every row's (term id, count) pairs, concatenated row after row (`sizes` pairs each).

        Built in blocks: at a million passages (~55M postings) whole-array temporaries would take
        several GB more than the 8 bytes a posting the result keeps."""
        k1, b = bm25
        term, tf = pairs[:, 0], pairs[:, 1]
        rows = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        ends = np.cumsum(sizes)
        counted = np.concatenate([[0], np.cumsum(tf, dtype=np.int64)])
        length = (counted[ends] - counted[ends - sizes]).astype(np.float64)
        norm = k1 * (1 - b + b * length / max(float(length.sum()) / max(len(sizes), 1), 1.0))
        df = np.bincount(term, minlength=n_terms)
        idf = np.log1p((len(sizes) - df + 0.5) / (df + 0.5))  # never negative, unlike classic BM25
        order = np.argsort(term, kind="stable")
        out_rows = np.empty(len(term), dtype=np.int32)
        weights = np.empty(len(term), dtype=np.float32)
        for i in range(0, len(order), _BLOCK):
            at = order[i : i + _BLOCK]
            r, f = rows[at], tf[at].astype(np.float64)
            # In float64, then rounded to float32: the same collection gives the same weights whatever
            # order its rows were added in (an incremental index must rank exactly as a fresh one).
            # Lucene's form: no (k1 + 1), which ranks the same.
            weights[i : i + _BLOCK] = idf[term[at]] * f / (f + norm[r])
            out_rows[i : i + _BLOCK] = r
        starts = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(ids, starts, out_rows, weights, idf.astype(np.float32))

    def scores(self, terms: Terms) -> np.ndarray:
        """BM25 of every row for the terms, each weighted by its query weight (0 for rows matching none)."""
        out = np.zeros(len(self.ids), dtype=np.float32)
        for t, w in weighted(terms):
            if 0 <= t < len(self.starts) - 1:
                lo, hi = self.starts[t], self.starts[t + 1]
                # a term's rows are distinct: no lost additions
                out[self.rows[lo:hi]] += self.weights[lo:hi] if w == 1 else np.float32(w) * self.weights[lo:hi]
        return out

    def ceiling(self, terms: Terms) -> float:
        """What no row's score reaches: every term's idf times its query weight. The best row's
        share of it says how much of the question the best match holds."""
        return float(sum(w * float(self.idf[t]) for t, w in weighted(terms) if 0 <= t < len(self.idf)))

    def top(self, term_ids: Terms, n: int, allowed: np.ndarray | None = None) -> Ranking:
        """The n best (id, BM25) rows matching any term, best first; `allowed` masks rows out."""
        s = self.scores(term_ids)
        if allowed is not None:
            s[~allowed] = 0
        hits = np.flatnonzero(s > 0)
        if len(hits) > n:
            hits = hits[np.argpartition(-s[hits], n - 1)[:n]]
        hits = hits[np.lexsort((hits, -s[hits]))]
        return list(zip(self.ids[hits].tolist(), s[hits].astype(float).tolist(), strict=True))

    def scores_of(self, term_ids: Terms, ids: Iterable[int]) -> dict[int, float]:
        """id -> BM25 for the given row ids that exist and match any term: the same sums as
        `scores`, but each term's postings are searched for these rows (a term's rows are in
        ascending order) instead of every row being scored, so the cost follows the few hundred
        candidates, not the collection."""
        found, at = locate(self.ids, ids)
        if not len(found):
            return {}
        order = np.argsort(at, kind="stable")
        wanted = at[order]
        s = np.zeros(len(at), dtype=np.float32)
        for t, w in weighted(term_ids):
            if 0 <= t < len(self.starts) - 1 and self.starts[t + 1] > self.starts[t]:
                lo, hi = int(self.starts[t]), int(self.starts[t + 1])
                pos = np.searchsorted(self.rows[lo:hi], wanted).clip(0, hi - lo - 1)
                hit = self.rows[lo:hi][pos] == wanted
                weights = self.weights[lo:hi][pos[hit]]
                s[order[hit]] += weights if w == 1 else np.float32(w) * weights
        return {i: v for i, v in zip(found.tolist(), s.astype(float).tolist(), strict=True) if v > 0}

    def mask(self, ids: Iterable[int]) -> np.ndarray:
        """Rows whose id is in `ids`."""
        return np.isin(self.ids, np.fromiter(ids, dtype=np.int64))


@dataclass(frozen=True)
class Lexicon:
    """Term ids and the two posting sets of a published catalog."""

    term_ids: dict[str, int]
    chunks: Postings
    documents: Postings

    @classmethod
    def load(
        cls,
        db: sqlite3.Connection,
        path: object,
        chunk_bm25: tuple[float, float] = BM25,
        doc_bm25: tuple[float, float] = DOC_BM25,
    ) -> Lexicon:
        """Build the postings of a catalog; (k1, b) for chunks and for whole documents."""
        term_ids = {t: int(i) for i, t in db.execute("SELECT id, term FROM vocabulary")}
        n_terms = max(term_ids.values(), default=0) + 1
        parts = [Postings.from_pairs(*_stored_pairs(db, table, path), n_terms, bm25)
                 for table, bm25 in (("chunks", chunk_bm25), ("documents", doc_bm25))]  # fmt: skip
        return cls(term_ids, parts[0], parts[1])

    def ids_of(self, question: str) -> dict[int, float]:
        """Term id -> query weight, for the question's words the collection holds."""
        ids = ((self.term_ids.get(t), w) for t, w in query_terms(question).items())
        return {i: w for i, w in ids if i is not None}

    def holds(self, term: str) -> bool:
        """Some document holds the stemmed word `term`, or a word of SHORTEST_STEM letters or more
        that it lengthens: "salvadoran" where the documents say "El Salvador", "guardsman" where
        they say "National Guard", "tyrolean" for "Tyrol"."""
        return self._held(term) or any(self._held(term[:n]) for n in range(len(term) - 1, SHORTEST_STEM - 1, -1))

    def _held(self, term: str) -> bool:
        return self.frequency(term) > 0

    def frequency(self, term: str) -> int:
        """How many documents hold the stemmed word `term` itself."""
        i = self.term_ids.get(term)  # the vocabulary keeps the words of removed documents: count postings
        starts = self.documents.starts
        return int(starts[i + 1] - starts[i]) if i is not None and i + 1 < len(starts) else 0


def _stored_pairs(db: sqlite3.Connection, table: str, path: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row ids, every row's (term id, count) pairs concatenated, pairs a row) of a catalog table,
    read into one preallocated array: no list of a million small byte strings to join."""
    total, rows = db.execute(f"SELECT coalesce(sum(length(bag)), 0), count(*) FROM {table}").fetchone()
    if total % 8:
        raise IndexCorrupt(f"{path}: damaged term counts in {table} — run: qa index FOLDER")
    pairs = np.empty((total // 8, 2), dtype=np.int32)
    ids, sizes = np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.int64)
    at = 0
    for i, (row_id, blob) in enumerate(db.execute(f"SELECT id, bag FROM {table} ORDER BY id")):
        if i >= rows or blob is None or len(blob) % 8 or at + len(blob) // 8 > len(pairs):
            raise IndexCorrupt(f"{path}: damaged term counts in {table} {row_id} — run: qa index FOLDER")
        n = len(blob) // 8
        pairs[at : at + n] = np.frombuffer(blob, dtype=np.int32).reshape(-1, 2)
        ids[i], sizes[i], at = row_id, n, at + n
    return ids, pairs, sizes


def weighted(terms: Terms) -> Iterable[tuple[int, float]]:
    """(term id, query weight) pairs of either form of Terms."""
    return terms.items() if isinstance(terms, Mapping) else ((t, 1.0) for t in terms)
