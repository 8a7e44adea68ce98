"""Extractive answers: the sentences of the hits that best answer the question, each cited.

Every sentence of every hit is a candidate, except the document's structure (qa/answer/structure.py).
Its score adds five kinds of evidence the index already holds, so nothing is encoded at question time:
- the cosine of the question to the sentence's in-context vector (sync pools one per sentence from
  its passage's forward pass: qa/index/slots.py), and the same once the candidates' shared topic
  (their mean) is taken out of both;
- the share of the question's focus words it holds, each weighted by how rare it is among the
  candidates (a word every candidate shares is the topic, not the point);
- whether it holds a phrase of the kind the question wants (a person's name for "who", a number
  for "how many": qa/answer/kinds.py);
- the rank of its passage.
The weights are a conditional logit fitted on the dev halves of bench/questions (answers.jsonl over
news, notes.jsonl over notes and reports) by bench/answer_tune.py; whether the best sentence answers
at all is decided in qa/answer/confidence.py (docs/benchmarks/answer.md).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings import VectorIndex
from embeddings.encoder import Span
from qa.answer import confidence, kinds, phrases
from qa.answer.structure import code, in_code, is_document_title, led_into_code, rows_whole, statements
from qa.index.lexicon import tokens
from qa.index.slots import SLOTS, sentence_spans
from qa.search.retrieve import DateWindow
from qa.text import split_sentences
from qa.types import Answer, Hit, Quote

MAX_QUOTES = 3
NOT_FOUND_CLOSEST = "The closest passages are shown below, marked as weak."
NOT_FOUND = f"The documents do not answer this question. {NOT_FOUND_CLOSEST}"


@dataclass(frozen=True)
class Weights:
    """How a sentence's evidence adds up (a logit); the defaults are fitted by bench/answer_tune.py."""

    cosine: float = 1.611
    centred: float = 2.497  # cosine once the candidates' mean (their shared topic) is taken out of both
    focus: float = 2.01
    kind: float = 1.978
    preposition: float = 1.238  # the question's preposition stands before the phrase of the wanted kind
    rank: float = 1.51  # times 1 / rank of the passage
    margin: float = 1.5  # a further quote must score within this of the best one: a fifth as likely, or more

    def score(self, features: tuple[float, ...]) -> float:
        """The weighted sum of a candidate's `features` (cosine, centred, focus, kind, preposition, rank)."""
        weights = (self.cosine, self.centred, self.focus, self.kind, self.preposition, self.rank)
        return sum(w * f for w, f in zip(weights, features, strict=True))


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
    unknown: tuple[str, ...] = ()  # the searched question's names no document holds (confidence.unknown_names)


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
    typed: float  # how surely those phrases are of the kind: 1, 0.5 (a lone first name for "who") or 0
    governed: bool  # one of them follows the question's preposition ("until what time": "until midnight")
    code: bool = False  # it is code (structure.code): it counts as evidence but is never quoted
    before: frozenset[str] = frozenset()  # the stemmed words of the statement before it in its passage


def sentence_vectors(vectors: VectorIndex, passages: list[tuple[Hit, list[Span], list[Span]]]) -> np.ndarray:
    """One in-context vector per sentence span of each passage, in order: the vector sync stored for
    the sentence group holding it, or the passage's own when the passage is one sentence. A passage
    comes as (hit, the spans wanted, all its sentences as split_sentences gives them)."""
    ids = []
    for hit, spans, sentences in passages:
        groups = sentence_spans(hit.text, sentences)
        base = hit.chunk_id * SLOTS
        starts = [a for a, _ in groups]
        # the group holding a span starts at or before it; group g has slot 1 + g
        ids += [base + 1 + max(0, bisect.bisect_right(starts, a) - 1) if groups else base for a, _ in spans]
    unique, at = np.unique(np.array(ids, dtype=np.int64), return_inverse=True)
    return vectors.reconstruct_many(unique.tolist())[at]


def candidates(r: Retrieved, want: kinds.Wanted) -> list[Candidate]:
    """Every statement sentence of every hit, with its cosines, words and phrases of the kind wanted."""
    sentences = [split_sentences(hit.text) for hit in r.hits]
    firsts = [first_statement(hit) for hit in r.hits]
    codes = [code(hit.text) for hit in r.hits]
    spans = [
        (i, (a, b))
        for i, hit in enumerate(r.hits)
        for x, y in rows_whole(hit.text, sentences[i])
        for a, b in statements(hit.text, x, y)
        if not (a == firsts[i] and is_document_title(hit.text[a:b]))
    ]
    if not spans:
        return []
    cosines, centred = _cosines(r, spans, sentences)
    texts = [r.hits[i].text[a:b] for i, (a, b) in spans]
    found = [want.phrases(text) if want.kind else [] for text in texts]
    known = phrases.surnames(texts, found) if want.kind == "who" else frozenset()
    out: list[Candidate] = []
    for (i, (a, b)), c, cc, text, held in zip(spans, cosines, centred, texts, found, strict=True):
        typed = want.strength(text, held, known) if want.kind else 1.0
        words = frozenset(tokens(text))
        before = out[-1].words if out and out[-1].hit == i else frozenset()
        governed = want.governed(text, held)
        out.append(Candidate(i, a, b, float(c), float(cc), words, tuple(held), typed, governed, in_code(codes[i], a), before))
    return out


def first_statement(hit: Hit) -> int:
    """Where the document's first line starts in `hit`, when the hit begins the document (the first
    page of a PDF); -1 otherwise."""
    if hit.line_start != 1 or (hit.page or 1) != 1:
        return -1
    return len(hit.text) - len(hit.text.lstrip())


def _cosines(
    r: Retrieved, spans: list[tuple[int, tuple[int, int]]], sentences: list[list[Span]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per span (in hit order): cosine to the question, and the same once the candidates' mean is
    taken out of both. `sentences`: each hit's, as split_sentences gives them."""
    if r.vectors is None or r.query is None:
        return np.zeros(len(spans)), np.zeros(len(spans))
    by_hit: dict[int, list[tuple[int, int]]] = {}
    for i, span in spans:
        by_hit.setdefault(i, []).append(span)
    rows = sentence_vectors(r.vectors, [(r.hits[i], s, sentences[i]) for i, s in by_hit.items()])
    mean = rows.mean(axis=0)
    q, v = r.query - mean, rows - mean
    centred = (v @ q) / np.maximum(np.linalg.norm(v, axis=1) * np.linalg.norm(q), 1e-9)
    return rows @ r.query, centred


def focus_weights(question_words: frozenset[str], pool: list[Candidate]) -> dict[str, float]:
    """Each question word weighted by its rarity among the candidates (smoothed inverse frequency)."""
    df = Counter(w for c in pool for w in c.words & question_words)
    n = len(pool)
    return {w: math.log((n + 1) / (df[w] + 0.5)) for w in question_words}


BEFORE_SHARE = 0.3  # a focus word the statement before holds counts this much: "The courthouse was designed by …"


def features(c: Candidate, focus: dict[str, float]) -> tuple[float, ...]:
    """A candidate's evidence, in the order of Weights.score: cosine, centred, focus held, kind,
    the question's preposition before the kind's phrase, 1 / rank. A focus word the statement
    before it holds counts BEFORE_SHARE: a sentence that answers often leans on the one that
    names the topic ("The courthouse was designed by Charles Lanyon." after "Belfast's Crumlin
    Road Courthouse is to be …"); cross-validated on the dev halves, top-1 0.715 → 0.722."""
    total = sum(focus.values())
    own = sum(v for word, v in focus.items() if word in c.words)
    leaned = sum(v for word, v in focus.items() if word in c.before and word not in c.words)
    held = (own + BEFORE_SHARE * leaned) / total if total > 0 else 0.0
    return c.cosine, c.centred, held, c.typed, float(c.governed), 1.0 / (c.hit + 1)


@dataclass(frozen=True)
class Ranking:
    """A question's candidates with their scores, best first, and what the question wants."""

    want: kinds.Wanted
    asked: frozenset[str]  # the question's stemmed content words
    scored: list[tuple[float, Candidate]]


def rank(r: Retrieved, w: Weights = DEFAULT) -> Ranking:
    """Every candidate with its score, best first."""
    want = kinds.wanted(r.searched)
    asked = frozenset(tokens(r.searched))
    pool = candidates(r, want)
    focus = focus_weights(asked, pool)
    return Ranking(want, asked, sorted(((w.score(features(c, focus)), c) for c in pool), key=lambda sc: -sc[0]))


def scored(r: Retrieved, w: Weights = DEFAULT) -> list[tuple[float, Candidate]]:
    """Every candidate with its score, best first."""
    return rank(r, w).scored


MARKED_KINDS = ("when", "quantity")  # the kinds whose phrases were right most often on the dev half


def marked(c: Candidate, kind: str) -> tuple[int, int]:
    """The answering phrase (sentence-relative) when exactly one of the wanted kind stands in it."""
    return c.kinds[0] if kind in MARKED_KINDS and len(c.kinds) == 1 else (0, 0)


def chosen(ranking: list[tuple[float, Candidate]], asked: frozenset[str], w: Weights = DEFAULT) -> list[tuple[float, Candidate]]:
    """The quotes: the best sentence, then up to MAX_QUOTES - 1 more that score within the margin
    and share a word with the question (`asked`: its stemmed words), each with other words."""
    out: list[tuple[float, Candidate]] = []
    seen: set[frozenset[str]] = set()
    for s, c in ranking:
        if len(out) == MAX_QUOTES or (out and s < out[0][0] - w.margin):
            break
        if c.code or c.words in seen or not c.words or (out and not c.words & asked):
            continue
        seen.add(c.words)
        out.append((s, c))
    return out


def evidence(r: Retrieved, ranking: Ranking, w: Weights = DEFAULT) -> confidence.Evidence:
    """What `ranking` (of `r`'s candidates) says about whether `r`'s question is answered."""
    return confidence.evidence(r.searched, ranking.asked, ranking.scored, w.cosine, r.unknown)


def confidence_of(r: Retrieved, w: Weights = DEFAULT, model: confidence.Found = confidence.DEFAULT) -> float:
    """How sure the answer step would be that its best sentence answers (the logit of "found")."""
    ranking = rank(r, w)
    return model.logit(evidence(r, ranking, w)) if ranking.scored else -math.inf


def answer(r: Retrieved, w: Weights = DEFAULT, model: confidence.Found = confidence.DEFAULT) -> Answer:
    """The chosen sentences, each cited [n]; "not in the documents" when the evidence says the best
    sentence does not answer (qa/answer/confidence.py)."""
    ranking = rank(r, w)
    quotes_at = chosen(ranking.scored, ranking.asked, w)
    found = bool(quotes_at) and model.answers(evidence(r, ranking, w))
    kind = ranking.want.kind
    quotes = tuple(_quote(r.hits[c.hit], c, s, kind if n == 0 else "") for n, (s, c) in enumerate(quotes_at)) if found else ()
    text = " ".join(f"{q.text} [{q.marker}]" for q in quotes) if found else not_found(r.unknown, r.hits)
    return Answer(question=r.question, text=text, quotes=quotes, hits=tuple(r.hits), found=found, searched=r.searched)


def not_found(unknown: tuple[str, ...], hits: Sequence[Hit] = ()) -> str:
    """What a refusal says; it names what no document mentions, so that a misspelt name shows, and
    the name spelt nearly alike in the closest passages (`hits`), if one is."""
    if not unknown:
        return NOT_FOUND
    listed = unknown[0] if len(unknown) == 1 else ", ".join(unknown[:-1]) + " or " + unknown[-1]
    alike = confidence.spelt_alike(unknown, [h.text for h in hits])
    return f"No document mentions {listed}.{f' Did you mean {alike}?' if alike else ''} {NOT_FOUND_CLOSEST}"


def _quote(hit: Hit, c: Candidate, s: float, kind: str) -> Quote:
    """A quote of candidate `c`, with the code it leads into when it ends in a colon (scored
    without: the code's words would lift it over sentences that state more); its phrase of `kind`
    marked (only the first quote is given a kind)."""
    a, b = marked(c, kind)
    end = led_into_code(hit.text, c.start, c.end, code(hit.text))
    return Quote(hit.text[c.start : end], hit.rank, hit.source, hit.start + c.start, hit.start + end, round(s, 4), a, b)
