"""Check a claim or a quote against the documents: is it there, where, and who had it first?

The quoted parts of the text (or the whole text) are searched verbatim and nearly so across
every document (qa.answer.quotes); the passages most similar to the whole text come from retrieval,
each with its best supporting sentence. The label comes from thresholds measured in
docs/benchmarks/check.md. Nothing here can tell whether a passage contradicts the text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import config
from qa.answer.quotes import Difference, extract_quotes, find_quote
from qa.errors import BadQuestion
from qa.text import Lines
from qa.types import Citation, Hit

if TYPE_CHECKING:
    from qa.library import Library

__all__ = ["Check", "Occurrence", "check"]

VERBATIM = "quoted verbatim"
CLOSE = "closely matched"
RELATED = "related passages only"
NOT_FOUND = "not found"
# Measured by bench/check_thresholds.py; the numbers and the choice: docs/benchmarks/check.md.
CLOSE_RATIO = 80.0  # folded character similarity of the best occurrence, 0..100
RELATED_COSINE = 0.55  # cosine of the text with the best sentence of a retrieved passage
MAX_OCCURRENCES = 50  # per quote, oldest first; the note gives the total
# Bounds on what one check may ask for: each quoted part is searched in every document (~0.5 s a
# part on 20,000 documents), so 150 parts held a server for 74 s (docs/benchmarks/integrity.md).
MAX_CHECK_CHARS = 2000
MAX_CHECK_QUOTES = 10
SHORT_QUOTE_WORDS = 8  # below this, near matches happen by chance (docs/benchmarks/check.md)
SHORT_NOTE = "Short quotes often nearly match unrelated text by chance: read the differing words."
NO_CONTRADICTION = "No model here can judge whether a passage contradicts the text: read the passages."
NOTES = {
    VERBATIM: "Found word for word (ignoring case, punctuation, quote marks and spacing).",
    CLOSE: "Found with small differences; the differing words are listed.",
    RELATED: "Not found as written; these passages are the most similar.",
    NOT_FOUND: "Not found, and no passage is similar enough to count as related.",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Occurrence(Citation):
    """One place a quote occurs. Invariant: document.text[start:end] == text."""

    quote: str
    text: str
    ratio: float  # 0..100; 100 means verbatim after folding case and punctuation
    differences: tuple[Difference, ...] = ()

    @property
    def verbatim(self) -> bool:
        return self.ratio >= 100.0


@dataclasses.dataclass(frozen=True)
class Check:
    """The verdict on one text: label, occurrences (oldest first), related passages."""

    text: str
    label: str
    occurrences: tuple[Occurrence, ...]
    passages: tuple[Hit, ...]  # sentence_start/end mark each passage's best supporting sentence
    note: str
    quotes: tuple[str, ...] = ()  # the parts searched for: quoted parts, else the whole text
    support: tuple[float, ...] = ()  # per passage: cosine of its best sentence with the text

    @property
    def best(self) -> int | None:
        """Index of the passage holding the best supporting sentence."""
        return int(np.argmax(self.support)) if self.support else None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "note": self.note,
            "quotes": list(self.quotes),
            "occurrences": [{**o.to_json(), "verbatim": o.verbatim} for o in self.occurrences],
            "passages": [{**h.to_json(), "support": s} for h, s in zip(self.passages, self.support, strict=True)],
            "best_passage": self.best,
        }


def _occurrences(quote: str, docs: list[Any], generation: str = "") -> list[Occurrence]:
    out = []
    lines: dict[str, Lines] = {}
    for m in find_quote(quote, docs, cutoff=CLOSE_RATIO):
        d = m.doc
        at = lines.setdefault(d.path, d.lines())
        out.append(
            Occurrence(
                source=d.path, date=d.date, title=d.title, start=m.start, end=m.end, line_start=at.at(m.start),
                line_end=at.at(max(m.start, m.end - 1)), page=d.page_at(m.start), date_source=d.date_source,
                ocr=d.ocr_at(m.start), quote=quote, text=m.text, ratio=m.ratio, differences=m.differences,
                sha256=d.sha256, generation=generation,
            )
        )  # fmt: skip
    # Oldest first, so the reader sees who published it first; undated last.
    out.sort(key=lambda o: (o.date is None, o.date or dt.date.min, -o.ratio, o.source, o.start))
    return out


def _support(lib: Library, text: str, hits: list[Hit]) -> tuple[list[Hit], list[float]]:
    """Rescore each passage's sentences against the text; mark the best one in each."""
    from qa.text import split_sentences

    spans = [split_sentences(h.text) or [(0, len(h.text))] for h in hits]
    flat = [h.text[s:e] for h, sp in zip(hits, spans, strict=True) for s, e in sp]
    if not flat:
        return hits, []
    q = np.asarray(lib.encoder.encode_query(text), dtype=np.float32)
    scores = np.asarray(lib.encoder.encode_passages(flat), dtype=np.float32) @ q
    out, best, i = [], [], 0
    for h, sp in zip(hits, spans, strict=True):
        j = int(np.argmax(scores[i : i + len(sp)]))
        s, e = sp[j]
        out.append(dataclasses.replace(h, sentence_start=s, sentence_end=e))
        best.append(round(float(scores[i + j]), 4))
        i += len(sp)
    return out, best


def label_for(ratios: list[float | None], support: float | None) -> str:
    """The label from each quote's best occurrence ratio (None: none) and the best cosine."""
    if ratios and all(r is not None and r >= 100.0 for r in ratios):
        return VERBATIM
    if ratios and all(r is not None and r >= CLOSE_RATIO for r in ratios):
        return CLOSE
    if support is not None and support >= RELATED_COSINE:
        return RELATED
    return NOT_FOUND


def _note(label: str, quotes: list[str], found: dict[str, int]) -> str:
    parts = [NOTES[label]]
    if label == CLOSE and any(len(q.split()) < SHORT_QUOTE_WORDS for q in quotes):
        parts.append(SHORT_NOTE)
    many = [(q, n) for q, n in found.items() if n > MAX_OCCURRENCES]
    parts += [f"Showing the {MAX_OCCURRENCES} oldest of {n} occurrences of “{q}”." for q, n in many]
    return " ".join([*parts, NO_CONTRADICTION])


def check(lib: Library, text: str, k: int = config.DEFAULT_K) -> Check:
    """Search `text` (its quoted parts, if any) in every document and retrieve similar passages."""
    if not text.strip():
        raise BadQuestion("Nothing to check: give a sentence or a quote, e.g. qa check '\"...\"'")
    if len(text) > MAX_CHECK_CHARS:
        raise BadQuestion(f"{len(text)} characters is too long to check — check at most {MAX_CHECK_CHARS} at a time")
    quotes = extract_quotes(text)
    if len(quotes) > MAX_CHECK_QUOTES:
        raise BadQuestion(f"{len(quotes)} quoted parts is too many to check at once — check at most {MAX_CHECK_QUOTES} at a time")
    view = lib.view()  # one generation for the documents and the citations that name it
    docs = list(view.catalog.documents())
    found = {q: _occurrences(q, docs, view.generation) for q in quotes}
    hits, support = _support(lib, text, list(lib.retrieve(text, k=k)))
    ratios = [max((o.ratio for o in occ), default=None) for occ in found.values()]
    label = label_for(ratios, max(support, default=None))
    return Check(
        text=text,
        label=label,
        occurrences=tuple(o for occ in found.values() for o in occ[:MAX_OCCURRENCES]),
        passages=tuple(hits),
        note=_note(label, quotes, {q: len(occ) for q, occ in found.items()}),
        quotes=tuple(quotes),
        support=tuple(support),
    )


