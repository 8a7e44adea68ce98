"""Text utilities every stage shares: sentence spans, line numbers, content words.

One definition each, so a chunk, a quote check and an answer agree on where a sentence ends,
which line an offset is on (\n, \r\n and a lone \r are each one break; a PDF's lines restart on each page) and which words count.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")  # _WORD on lower-cased ASCII, in 70% of its time

# Dropped from keyword queries and bags: they match everything and carry no evidence.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours out over own said same say says she
    should so some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your""".split()
)

# A sentence ends at . ! ? … (plus closing quotes or brackets) followed by white space and
# something that can start a sentence; a blank line always ends one.
_END = re.compile(r"""[.!?…]+["'”’»)\]]*(?=\s+["'“‘«(\[]?[A-Z0-9])|\n[ \t]*\n""")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "lt", "col",
    "capt", "sgt", "inc", "ltd", "co", "corp", "vs", "etc", "no", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e",
}  # fmt: skip


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` ends an abbreviation or an initial, not a sentence."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], white space trimmed, never empty."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _END.finditer(text, start, end):
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        _append_trimmed(text, cursor, match.end(), spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a < b:
        spans.append((a, b))


def line_breaks(text: str) -> list[int]:
    """Offsets of the last character of each line break: \n, \r\n and a lone \r (old Mac files) alike."""
    return [m.end() - 1 for m in _LINE_BREAK.finditer(text)]


def line_of(breaks: list[int], offset: int) -> int:
    """1-based line number of the character at `offset`, counted from the top of the text."""
    return bisect.bisect_right(breaks, offset - 1) + 1


def line_number(text: str, offset: int, pages: Sequence[int] = ()) -> int:
    """1-based line of the character at `offset` (for one offset; many: Lines)."""
    return Lines(text, pages).at(offset)


class Lines:
    """Line numbers as every citation gives them: 1-based, and for a PDF (`pages`: the offset where
    each page starts) counted from the top of the page, as a reader of page 2 counts them.

    Chunking, claim checks and the document viewer all number lines here, so they agree.
    """

    def __init__(self, text: str, pages: Sequence[int] = ()):
        self.breaks = line_breaks(text)
        self.pages = list(pages)
        self._first = [line_of(self.breaks, p) for p in self.pages]  # each page's first line, counted from the top

    def at(self, offset: int) -> int:
        """The line of the character at `offset`."""
        line = line_of(self.breaks, offset)
        page = bisect.bisect_right(self.pages, offset) - 1
        return line - self._first[page] + 1 if page >= 0 else line

    def starts(self, length: int) -> list[int]:
        """Offsets where a line begins that holds at least one character of a text `length` long."""
        return [0, *(b + 1 for b in self.breaks if b + 1 < length)]


def terms(text: str) -> list[str]:
    """Lower-cased content words of `text`, in order, without stop words."""
    low = text.lower()
    words = ASCII_WORD.findall(low) if low.isascii() else _WORD.findall(low.replace("’", "'"))
    return [w for w in words if w not in STOPWORDS]
