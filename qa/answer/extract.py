"""Extractive answers: the sentences of the hits that best answer the question, each cited."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qa.text import split_sentences, terms
from qa.types import Answer, Hit, Quote

MAX_QUOTES = 3
LEXICAL_WEIGHT = 0.3  # share of the sentence score that comes from question-word overlap
FOUND_THRESHOLD = 0.45  # below this best sentence score the documents are said not to answer
MARGIN = 0.15  # a further quote must score within this of the best one
NOT_FOUND = "The documents do not answer this question. The closest passages are shown below, marked as weak."


class SentenceEncoder(Protocol):
    def encode_query(self, text: str) -> np.ndarray: ...
    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content words found in the sentence."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(terms(sentence))) / len(question_terms)


def score_sentences(encoder: SentenceEncoder, question: str, hits: list[Hit]) -> list[tuple[float, int, int, int]]:
    """(score, hit index, start, end) for every sentence of every hit; spans are chunk-relative."""
    spans = [(i, a, b) for i, h in enumerate(hits) for a, b in split_sentences(h.text)]
    if not spans:
        return []
    texts = [hits[i].text[a:b] for i, a, b in spans]
    cosine = encoder.encode_passages(texts) @ encoder.encode_query(question)
    wanted = set(terms(question))
    return [
        ((1 - LEXICAL_WEIGHT) * float(c) + LEXICAL_WEIGHT * overlap(wanted, t), i, a, b)
        for (i, a, b), c, t in zip(spans, cosine, texts, strict=True)
    ]


def answer(encoder: SentenceEncoder, question: str, hits: list[Hit]) -> Answer:
    """Pick up to MAX_QUOTES sentences, keep them in source order within a hit, cite each as [n]."""
    scored = sorted(score_sentences(encoder, question, hits), key=lambda s: -s[0])
    chosen: list[tuple[float, int, int, int]] = []
    seen: set[str] = set()
    for entry in scored:
        score, i, a, b = entry
        if chosen and score < chosen[0][0] - MARGIN:
            break
        key = " ".join(terms(hits[i].text[a:b]))
        if key in seen or len(key) < 3:
            continue
        seen.add(key)
        chosen.append(entry)
        if len(chosen) == MAX_QUOTES:
            break
    found = bool(chosen) and chosen[0][0] >= FOUND_THRESHOLD
    # The hit holding the best sentence first; within one hit, sentences in the order written.
    best_of = {i: -score for score, i, _, _ in reversed(chosen)}
    chosen.sort(key=lambda s: (best_of[s[1]], s[1], s[2]))
    quotes = tuple(
        Quote(hits[i].text[a:b], hits[i].rank, hits[i].source, hits[i].start + a, hits[i].start + b, round(score, 4))
        for score, i, a, b in chosen
    )
    text = " ".join(f"{q.text} [{q.marker}]" for q in quotes) if found else NOT_FOUND
    return Answer(question=question, text=text, quotes=quotes if found else (), hits=tuple(hits), found=found)
