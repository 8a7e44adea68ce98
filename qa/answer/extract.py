"""Extractive answers: the sentences of the hits that best answer the question, each cited.

Every sentence of every hit is a candidate, except the document's structure (qa/answer/structure.py).
Its score adds four kinds of evidence the index already holds, so nothing is encoded at question time:
- the cosine of the question to the sentence's in-context vector (sync pools one per sentence from
  its passage's forward pass: qa/index/slots.py);
- the share of the question's focus words it holds, each weighted by how rare it is among the
  candidates (a word every candidate shares is the topic, not the point);
- whether it holds a phrase of the kind the question wants (a name for "who", a number for "how
  many": qa/answer/kinds.py);
- the rank of its passage.
The weights and thresholds are measured on bench/questions/answers.jsonl (docs/benchmarks/answer.md).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from embeddings import VectorIndex
from qa.answer import kinds
from qa.answer.structure import statements
from qa.index.lexicon import tokens
from qa.index.slots import SLOTS, sentence_spans
from qa.search.retrieve import DateWindow
from qa.text import split_sentences
from qa.types import Answer, Hit, Quote

MAX_QUOTES = 3
NOT_FOUND = "The documents do not answer this question. The closest passages are shown below, marked as weak."


@dataclass(frozen=True)
class Weights:
    """How a sentence's evidence adds up; the defaults are the measured ones."""

    cosine: float = 1.0
    centred: float = 1.0  # cosine once the candidates' mean (their shared topic) is taken out of both
    focus: float = 0.25
    kind: float = 0.4
    rank: float = 0.2  # times 1 / rank of the passage
    found: float = 1.19  # below this best score the documents are said not to answer
    margin: float = 0.4  # a further quote must score within this of the best one


DEFAULT = Weights()


@dataclass(frozen=True)
class Retrieved:
    """A question searched, ready to be answered: what `answer` needs, worked out once."""

    question: str  # as the user asked it
    searched: str  # cleaned, with what a follow-up carries over
    hits: list[Hit]
    window: DateWindow
    query: np.ndarray | None  # the searched question's vector
    vectors: VectorIndex | None  # the generation's vectors, holding each sentence's


@dataclass(frozen=True)
class Candidate:
    """One sentence of one hit, with its evidence."""

    hit: int  # index into the hits
    start: int  # chunk-relative
    end: int
    cosine: float
    centred: float  # cosine of question and sentence, each less the mean of all candidates
    words: frozenset[str]  # stemmed content words
    kinds: tuple[tuple[int, int], ...]  # spans (sentence-relative) of phrases of the wanted kind


def sentence_vectors(vectors: VectorIndex, hit: Hit, spans: list[tuple[int, int]]) -> np.ndarray:
    """One in-context vector per sentence span: the vector sync stored for the sentence group holding
    it, or the passage's own when the passage is one sentence."""
    groups = sentence_spans(hit.text)
    base = hit.chunk_id * SLOTS
    if not groups:
        return np.stack([vectors.reconstruct(base)] * len(spans))
    starts = [a for a, _ in groups]
    slot = [max(0, int(np.searchsorted(starts, a, side="right")) - 1) for a, _ in spans]
    stored = {g: vectors.reconstruct(base + 1 + g) for g in set(slot)}
    return np.stack([stored[g] for g in slot])


def candidates(r: Retrieved, kind: str) -> list[Candidate]:
    """Every statement sentence of every hit, with its cosines, words and phrases of `kind`."""
    spans = [(i, s) for i, hit in enumerate(r.hits) for a, b in split_sentences(hit.text) for s in statements(hit.text, a, b)]
    if not spans:
        return []
    cosines, centred = _cosines(r, spans)
    out = []
    for (i, (a, b)), c, cc in zip(spans, cosines, centred, strict=True):
        text = r.hits[i].text[a:b]
        found = tuple(kinds.candidates(kind, text, r.searched)) if kind else ()
        out.append(Candidate(i, a, b, float(c), float(cc), frozenset(tokens(text)), found))
    return out


def _cosines(r: Retrieved, spans: list[tuple[int, tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray]:
    """Per span: cosine to the question, and the same once the candidates' mean is taken out of both."""
    if r.vectors is None or r.query is None:
        return np.zeros(len(spans)), np.zeros(len(spans))
    by_hit: dict[int, list[tuple[int, int]]] = {}
    for i, span in spans:
        by_hit.setdefault(i, []).append(span)
    rows = np.concatenate([sentence_vectors(r.vectors, r.hits[i], s) for i, s in by_hit.items()])
    mean = rows.mean(axis=0)
    q, v = r.query - mean, rows - mean
    centred = (v @ q) / np.maximum(np.linalg.norm(v, axis=1) * np.linalg.norm(q), 1e-9)
    return rows @ r.query, centred


def focus_weights(question_words: set[str], pool: list[Candidate]) -> dict[str, float]:
    """Each question word weighted by its rarity among the candidates (smoothed inverse frequency)."""
    df = Counter(w for c in pool for w in c.words & question_words)
    n = len(pool)
    return {w: math.log((n + 1) / (df[w] + 0.5)) for w in question_words}


def score(c: Candidate, focus: dict[str, float], kind: str, w: Weights) -> float:
    total = sum(focus.values())
    held = sum(v for word, v in focus.items() if word in c.words) / total if total > 0 else 0.0
    typed = 1.0 if (c.kinds or not kind) else 0.0
    return w.cosine * c.cosine + w.centred * c.centred + w.focus * held + w.kind * typed + w.rank / (c.hit + 1)


def scored(r: Retrieved, w: Weights = DEFAULT) -> list[tuple[float, Candidate]]:
    """Every candidate with its score, best first."""
    kind = kinds.question_kind(r.searched)
    pool = candidates(r, kind)
    focus = focus_weights(set(tokens(r.searched)), pool)
    return sorted(((score(c, focus, kind, w), c) for c in pool), key=lambda sc: -sc[0])


MARKED_KINDS = ("when", "quantity")  # the kinds whose phrases were right most often on the dev half


def marked(c: Candidate, kind: str) -> tuple[int, int]:
    """The answering phrase (sentence-relative) when exactly one of the wanted kind stands in it."""
    return c.kinds[0] if kind in MARKED_KINDS and len(c.kinds) == 1 else (0, 0)


def answer(r: Retrieved, w: Weights = DEFAULT) -> Answer:
    """The best sentence first, then up to MAX_QUOTES - 1 more within the margin, each cited [n]."""
    chosen: list[tuple[float, Candidate]] = []
    seen: set[frozenset[str]] = set()
    for s, c in scored(r, w):
        if len(chosen) == MAX_QUOTES or (chosen and s < chosen[0][0] - w.margin):
            break
        if c.words in seen or not c.words:
            continue
        seen.add(c.words)
        chosen.append((s, c))
    found = bool(chosen) and chosen[0][0] >= w.found
    kind = kinds.question_kind(r.searched)
    quotes = tuple(_quote(r.hits[c.hit], c, s, kind if n == 0 else "") for n, (s, c) in enumerate(chosen)) if found else ()
    text = " ".join(f"{q.text} [{q.marker}]" for q in quotes) if found else NOT_FOUND
    return Answer(question=r.question, text=text, quotes=quotes, hits=tuple(r.hits), found=found, searched=r.searched)


def _quote(hit: Hit, c: Candidate, s: float, kind: str) -> Quote:
    """A quote of candidate `c`; its phrase of `kind` marked (only the first quote is given a kind)."""
    a, b = marked(c, kind)
    return Quote(hit.text[c.start : c.end], hit.rank, hit.source, hit.start + c.start, hit.start + c.end, round(s, 4), a, b)
