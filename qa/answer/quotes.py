"""Find where a quote occurs, verbatim or nearly so, in a set of documents.

Text is compared after folding: case, accents, curly quotes, dashes, punctuation and runs of
whitespace are ignored. Folding keeps a map back to the original characters, so every match
is reported as offsets into `Document.text` (invariant: doc.text[start:end] == match text).
Exact matches come from `str.find`; near matches from rapidfuzz's partial alignment, snapped
to whole words. Documents are prefiltered by the quote's longest words before aligning.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

from qa.types import Document

__all__ = ["Difference", "Match", "extract_quotes", "find_quote", "fold", "fold_with_map"]

_NONWORD = re.compile(r"[\W_]+")
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Straight and typographic double quotes; single quotes are left alone because ’ is also
# the apostrophe. Each pattern captures the quoted part.
_QUOTED = re.compile(r'"([^"]+)"|“([^”“]+)”|„([^“”]+)[“”]|«\s*([^»]+?)\s*»')
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")  # a word as shown in a difference
_TOKEN = re.compile(r"\S+")
MAX_PER_DOCUMENT = 20
SLACK = 10.0  # alignment score below the cutoff still worth snapping to words


@dataclasses.dataclass(frozen=True)
class Difference:
    """One place where the document's words differ from the quote's."""

    quote: str  # words of the quote ('' when the document adds words)
    document: str  # words of the document ('' when the document lacks them)


@dataclasses.dataclass(frozen=True)
class Match:
    """One occurrence of a quote: offsets into the document's original text."""

    doc: Document
    start: int
    end: int
    ratio: float  # 0..100, character-level similarity of the folded texts
    differences: tuple[Difference, ...] = ()

    @property
    def text(self) -> str:
        return self.doc.text[self.start : self.end]


def extract_quotes(text: str) -> list[str]:
    """The parts of `text` in quotation marks, or [text] when there are none."""
    parts = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(text)]
    parts = [p for p in parts if fold(p)]
    return parts or [text.strip()]


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    s = _MARKS.sub("", unicodedata.normalize("NFKD", c)).casefold()
    return _NONWORD.sub(" ", s)


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: words joined by single spaces."""
    s = _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()
    return " ".join(_NONWORD.sub(" ", s).split())


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each of its characters, the index of the source character."""
    out: list[str] = []
    src: list[int] = []
    space = True  # drop leading spaces and collapse runs
    for i, c in enumerate(text):
        for ch in _fold_char(c):
            if ch == " ":
                if space:
                    continue
                space = True
            else:
                space = False
            out.append(ch)
            src.append(i)
    if out and out[-1] == " ":
        out.pop()
        src.pop()
    return "".join(out), src


@functools.lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    # Keyed on the text itself: a document whose text changed is folded again.
    return fold(text)


def _key_words(folded_quote: str, n: int = 4) -> list[str]:
    """The quote's longest distinct words: a cheap stand-in for its rarest ones."""
    words = sorted(set(folded_quote.split()), key=lambda w: (-len(w), w))
    return words[:n]


def _candidate(folded_doc: str, keys: list[str]) -> bool:
    """True when at least half of the key words occur as whole words in the document."""
    padded = f" {folded_doc} "
    found = sum(f" {w} " in padded for w in keys)
    return found * 2 >= len(keys)


def _exact_spans(q: str, folded: str) -> list[tuple[int, int]]:
    spans, padded, needle = [], f" {folded} ", f" {q} "
    i = padded.find(needle)
    while i >= 0:
        spans.append((i, i + len(q)))  # padded index i is the space before = folded index i
        i = padded.find(needle, i + len(q) + 1)
    return spans


def _best_word_window(q: str, folded: str, start: int, end: int) -> tuple[int, int, float]:
    """Try dropping or adding one word at either end; keep the most similar window.

    Character similarity alone prefers dropping a changed last word over matching it
    ("us without them" ~ "you without" beats "you without you"), so each word of length
    difference from the quote costs a few points when choosing (not in the ratio reported).
    """
    # Only the words near the window: tokenising the whole document each time is the slow part.
    lo = folded.rfind(" ", 0, max(0, start - 2 * len(q) - 40)) + 1
    hi = folded.find(" ", min(len(folded), end + 2 * len(q) + 40))
    bounds = [m.span() for m in _TOKEN.finditer(folded, lo, len(folded) if hi < 0 else hi)]
    first = next(i for i, (s, e) in enumerate(bounds) if e > start)
    last = max(i for i, (s, e) in enumerate(bounds) if s < end)
    n = q.count(" ") + 1
    best, best_score = (bounds[first][0], bounds[last][1], 0.0), -1e9
    for a in (first - 1, first, first + 1):
        for b in (last - 1, last, last + 1):
            if 0 <= a <= b < len(bounds):
                s, e = bounds[a][0], bounds[b][1]
                r = fuzz.ratio(q, folded[s:e])
                score = r - 3.0 * abs(b - a + 1 - n)
                if score > best_score:
                    best, best_score = (s, e, r), score
    return best


def _fuzzy_spans(q: str, work: str, cutoff: float) -> list[tuple[int, int, float]]:
    """Near matches, best first; each found window is blanked before looking again."""
    found: list[tuple[int, int, float]] = []
    if len(q) > len(work):  # the whole document is shorter than the quote
        r = fuzz.ratio(q, work)
        return [(0, len(work), r)] if r >= cutoff else []
    for _ in range(MAX_PER_DOCUMENT):
        # Snapping to whole words can raise the score: align with some slack.
        al = fuzz.partial_ratio_alignment(q, work, score_cutoff=cutoff - SLACK)
        if al is None or al.score < cutoff - SLACK:
            break
        s, e, r = _best_word_window(q, work, al.dest_start, max(al.dest_end, al.dest_start + 1))
        work = work[:s] + "\0" * (e - s) + work[e:]
        if r >= cutoff:
            found.append((s, e, r))
    return found


def _differences(quote: str, doc_text: str, start: int, end: int) -> tuple[Difference, ...]:
    """Word-level differences between the quote and doc_text[start:end], in original spelling."""
    qw = _WORD.findall(quote)
    dw = _WORD.findall(doc_text[start:end])
    qf, df = [fold(w) for w in qw], [fold(w) for w in dw]
    ops = difflib.SequenceMatcher(a=qf, b=df, autojunk=False).get_opcodes()
    return tuple(Difference(" ".join(qw[i1:i2]), " ".join(dw[j1:j2])) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _spans(q: str, folded: str, cutoff: float) -> list[tuple[int, int, float]]:
    """(start, end, ratio) of every match in a folded text: exact ones, then near ones."""
    exact = _exact_spans(q, folded)
    work = folded
    for s, e in exact:  # blank them so that alignment looks elsewhere
        work = work[:s] + "\0" * (e - s) + work[e:]
    return [(s, e, 100.0) for s, e in exact] + _fuzzy_spans(q, work, cutoff)


def _original_spans(text: str, folded: str, spans: list[tuple[int, int, float]]) -> list[tuple[int, int]] | None:
    """Offsets in `text` of spans of `fold(text)`.

    Fast path when folding keeps one character per character (most text): the words of the
    folded text are the runs of non-space characters, found by a regex. Otherwise, or if a
    mapped span does not fold back to its folded text, the character-by-character map is used.
    """
    t = _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()
    if len(t) == len(text):
        bounds = [m.span() for m in re.finditer(r"[^\W_]+", t)]
        starts = list(itertools.accumulate((b - a + 1 for a, b in bounds), initial=0))
        out = []
        for s, e, _ in spans:
            i, j = bisect.bisect_right(starts, s) - 1, bisect.bisect_right(starts, e - 1) - 1
            out.append((bounds[i][0] + s - starts[i], bounds[j][0] + e - starts[j]))
        if all(fold(text[a:b]) == folded[s:e] for (a, b), (s, e, _) in zip(out, spans, strict=True)):
            return out
    mapped, src = fold_with_map(text)
    if mapped != folded:  # whole-text and per-character folding disagree: the caller redoes the search
        return None
    return [(src[s], src[e - 1] + 1) for s, e, _ in spans]


def find_quote(quote: str, documents: Iterable[Document], cutoff: float = 80.0) -> list[Match]:
    """Every place in `documents` where `quote` occurs with a folded similarity >= cutoff.

    Verbatim (folded) matches have ratio 100. Matches come in document order.
    """
    q = fold(quote)
    if not q:
        return []
    keys = _key_words(q)
    matches: list[Match] = []
    for doc in documents:
        folded = _folded(doc.text)
        if not _candidate(folded, keys):
            continue
        spans = sorted(_spans(q, folded, cutoff))
        if not spans:
            continue
        located = _original_spans(doc.text, folded, spans)
        if located is None:
            mapped, src = fold_with_map(doc.text)
            spans = sorted(_spans(q, mapped, cutoff))
            located = [(src[s], src[e - 1] + 1) for s, e, _ in spans]
        for (_, _, r), (start, end) in zip(spans, located, strict=True):
            diffs = () if r >= 100 else _differences(quote, doc.text, start, end)
            matches.append(Match(doc, start, end, round(r, 1), diffs))
    return matches
