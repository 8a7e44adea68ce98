"""Sentence-aware chunks that fit the model's window, with exact character and line spans."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from qa.ingest.sections import section_at
from qa.text import Lines, split_sentences
from qa.types import Chunk, Document

CountTokens = Callable[[list[str]], list[int]]

MAX_TOKENS = 256  # the model's window, word pieces including [CLS] and [SEP]
CHUNK_TOKENS = 128  # target chunk length; all-MiniLM-L6-v2 was trained on 128-token inputs
OVERLAP_SENTENCES = 1
# The window in characters too: a word of over 100 characters is one [UNK] word piece to the
# tokenizer, so a 5 MB run without spaces counted as 1 token. 8 characters a word piece is
# more than any language averages; the longest of 33,142 news passages holds 1,340.
MAX_CHARS = 8 * MAX_TOKENS


def settings() -> dict[str, int]:
    """The chunk settings an index records; an index chunked otherwise is rebuilt by the next sync."""
    return {"tokens": CHUNK_TOKENS, "limit": MAX_TOKENS - 2, "overlap": OVERLAP_SENTENCES, "chars": MAX_CHARS}

def _split_long(text: str, span: tuple[int, int], count_tokens: CountTokens, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces of at most `limit` tokens."""
    a, b = span
    # A run longer than MAX_CHARS is first cut every MAX_CHARS characters: no tokenizer pass over 5 MB.
    words = [(x, min(x + MAX_CHARS, end)) for first, end in _words(text, a, b) for x in range(first, end, MAX_CHARS)]
    sizes = count_tokens([text[x:y] for x, y in words])
    if any(n > limit for n in sizes):
        words, sizes = _cut_words(text, words, sizes, count_tokens, limit)
    pieces: list[tuple[int, int]] = []
    first, total = 0, 0
    for i, n in enumerate(sizes):
        if i > first and (total + n > limit or words[i][1] - words[first][0] > MAX_CHARS):
            pieces.append((words[first][0], words[i - 1][1]))
            first, total = i, 0
        total += n
    pieces.append((words[first][0], words[-1][1]))
    return pieces


def _words(text: str, a: int, b: int) -> list[tuple[int, int]]:
    return [(a + m.start(), a + m.end()) for m in re.finditer(r"\S+", text[a:b])]


def _cut_words(
    text: str, words: list[tuple[int, int]], sizes: list[int], count_tokens: CountTokens, limit: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """Halve every "word" over `limit` tokens until each piece fits: Chinese or Japanese text has no
    spaces, so a whole paragraph is one word, and the encoder would silently drop all but its start."""
    out: list[tuple[int, int]] = []
    out_sizes: list[int] = []
    todo = list(zip(words, sizes, strict=True))[::-1]
    while todo:
        (x, y), n = todo.pop()
        if n <= limit or y - x < 2:
            out.append((x, y))
            out_sizes.append(n)
            continue
        mid = (x + y) // 2
        left, right = count_tokens([text[x:mid], text[mid:y]])
        todo += [((mid, y), right), ((x, mid), left)]
    return out, out_sizes


def _pack(sentences: Sequence[tuple[int, int]], counts: Sequence[int], target: int, overlap: int) -> list[tuple[int, int]]:
    """Group sentence indices [i, j) so each group holds about `target` tokens, MAX_CHARS at most."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (
            j == i or (total + counts[j] <= target and sentences[j][1] - sentences[i][0] <= MAX_CHARS)
        ):
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
    start: int | None = None,
    target: int | None = None,
    limit: int | None = None,
    overlap: int | None = None,
) -> list[Chunk]:
    """Chunks of doc.text[start:] (default: from doc.body_start), each a run of whole sentences (or a
    piece of one too long).

    A PDF page and a heading are hard boundaries, so every chunk cites exactly one page and one
    section; no sentence crosses one of doc.breaks. The sizes default to settings(), read at each
    call: the settings an index records are the ones it was cut with.
    """
    wanted = settings()
    target = wanted["tokens"] if target is None else target
    limit = wanted["limit"] if limit is None else limit
    overlap = wanted["overlap"] if overlap is None else overlap
    start = doc.body_start if start is None else start
    text = doc.text
    cuts = [*doc.pages, *(offset for offset, _ in doc.sections)]
    bounds = sorted({max(p, start) for p in cuts if p < len(text)} | {start})
    segments = [(a, b) for a, b in zip(bounds, [*bounds[1:], len(text)], strict=True) if a < b]
    lines = doc.lines()
    chunks: list[Chunk] = []
    for seg_start, seg_end in segments:
        sentences, sizes = _sentences(text, _pieces(doc.breaks, seg_start, seg_end), count_tokens, limit)
        for i, j in _pack(sentences, sizes, min(target, limit), overlap):
            a, b = sentences[i][0], sentences[j - 1][1]
            chunks.append(_chunk(doc, len(chunks), (a, b), lines, section_at(doc.sections, a)))
    return chunks


def _pieces(breaks: Sequence[int], start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at the breaks inside it."""
    inside = [b for b in breaks[bisect.bisect_right(breaks, start) : bisect.bisect_left(breaks, end)]]
    return list(zip([start, *inside], [*inside, end], strict=True))


def _sentences(
    text: str, pieces: list[tuple[int, int]], count_tokens: CountTokens, limit: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """Sentence spans of the pieces of text with their token counts; over-long ones cut at words."""
    spans = [span for a, b in pieces for span in split_sentences(text, a, b)]
    counts = count_tokens([text[a:b] for a, b in spans])
    sentences: list[tuple[int, int]] = []
    sizes: list[int] = []
    for span, n in zip(spans, counts, strict=True):
        if n > limit or span[1] - span[0] > MAX_CHARS:
            pieces = _split_long(text, span, count_tokens, limit)
            sentences.extend(pieces)
            sizes.extend(count_tokens([text[a:b] for a, b in pieces]))
        else:
            sentences.append(span)
            sizes.append(n)
    return sentences, sizes


def _chunk(doc: Document, ordinal: int, span: tuple[int, int], lines: Lines, section: str) -> Chunk:
    a, b = span
    return Chunk(
        source=doc.path,
        date=doc.date,
        title=doc.title,
        ordinal=ordinal,
        start=a,
        end=b,
        line_start=lines.at(a),
        line_end=lines.at(b),
        text=doc.text[a:b],
        page=doc.page_at(a),
        section=section,
        date_source=doc.date_source,
        ocr=doc.ocr_at(a),
    )
