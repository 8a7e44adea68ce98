"""Sentence-aware chunks that fit the model's window, with exact character and line spans."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from qa import config
from qa.types import Chunk, Document

CountTokens = Callable[[list[str]], list[int]]

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


def _split_long(text: str, span: tuple[int, int], tokens: int, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces of about `limit` tokens."""
    a, b = span
    words = [m.span() for m in re.finditer(r"\S+", text[a:b])]
    per_piece = max(1, int(len(words) * limit / max(tokens, 1)))
    pieces = []
    for i in range(0, len(words), per_piece):
        group = words[i : i + per_piece]
        pieces.append((a + group[0][0], a + group[-1][1]))
    return pieces


def _pack(sentences: Sequence[tuple[int, int]], counts: Sequence[int], target: int, overlap: int) -> list[tuple[int, int]]:
    """Group sentence indices [i, j) so each group holds about `target` tokens."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (j == i or total + counts[j] <= target):
            total += counts[j]
            j += 1
        groups.append((i, j))
        if j >= len(sentences):
            break
        # Carry the last `overlap` sentences over, unless that would stall the loop.
        i = max(j - overlap, i + 1) if j - i > overlap else j
    return groups


def chunk_document(
    doc: Document,
    count_tokens: CountTokens,
    start: int = 0,
    target: int = config.CHUNK_TOKENS,
    limit: int = config.MAX_TOKENS - 2,
    overlap: int = config.OVERLAP_SENTENCES,
) -> list[Chunk]:
    """Chunks of doc.text[start:], each a run of whole sentences (or a piece of one too long)."""
    text = doc.text
    spans = split_sentences(text, start)
    counts = count_tokens([text[a:b] for a, b in spans])
    sentences: list[tuple[int, int]] = []
    sizes: list[int] = []
    for span, n in zip(spans, counts, strict=True):
        if n > limit:
            pieces = _split_long(text, span, n, limit)
            sentences.extend(pieces)
            sizes.extend(count_tokens([text[a:b] for a, b in pieces]))
        else:
            sentences.append(span)
            sizes.append(n)
    newlines = [m.start() for m in re.finditer("\n", text)]
    chunks = []
    for ordinal, (i, j) in enumerate(_pack(sentences, sizes, min(target, limit), overlap)):
        a, b = sentences[i][0], sentences[j - 1][1]
        chunks.append(
            Chunk(
                doc_path=doc.path,
                ordinal=ordinal,
                start=a,
                end=b,
                line_start=bisect.bisect_right(newlines, a - 1) + 1,
                line_end=bisect.bisect_right(newlines, b - 1) + 1,
                text=text[a:b],
                page=doc.page_at(a),
            )
        )
    return chunks
