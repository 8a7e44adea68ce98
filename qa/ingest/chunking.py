"""Sentence-aware chunks that fit the model's window, with exact character and line spans."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.ingest.sections import MARKDOWN, section_at, section_starts
from qa.text import line_breaks, line_of, split_sentences
from qa.types import Chunk, Document

CountTokens = Callable[[list[str]], list[int]]

MAX_TOKENS = 256  # the model's window, word pieces including [CLS] and [SEP]
CHUNK_TOKENS = 128  # target chunk length; all-MiniLM-L6-v2 was trained on 128-token inputs
OVERLAP_SENTENCES = 1


def settings() -> dict[str, int]:
    """The chunk settings an index records; an index chunked otherwise is rebuilt by the next sync."""
    return {"tokens": CHUNK_TOKENS, "limit": MAX_TOKENS - 2, "overlap": OVERLAP_SENTENCES}

def _split_long(text: str, span: tuple[int, int], count_tokens: CountTokens, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces of at most `limit` tokens."""
    a, b = span
    words = [(a + m.start(), a + m.end()) for m in re.finditer(r"\S+", text[a:b])]
    sizes = count_tokens([text[x:y] for x, y in words])
    if any(n > limit for n in sizes):
        words, sizes = _cut_words(text, words, sizes, count_tokens, limit)
    pieces: list[tuple[int, int]] = []
    first, total = 0, 0
    for i, n in enumerate(sizes):
        if i > first and total + n > limit:
            pieces.append((words[first][0], words[i - 1][1]))
            first, total = i, 0
        total += n
    pieces.append((words[first][0], words[-1][1]))
    return pieces


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
    target: int | None = None,
    limit: int | None = None,
    overlap: int | None = None,
) -> list[Chunk]:
    """Chunks of doc.text[start:], each a run of whole sentences (or a piece of one too long).

    A PDF page, and a Markdown heading, is a hard boundary, so every chunk cites exactly one page and
    one section. The sizes default to settings(), read at each call: the settings an index records
    are the ones it was cut with.
    """
    wanted = settings()
    target = wanted["tokens"] if target is None else target
    limit = wanted["limit"] if limit is None else limit
    overlap = wanted["overlap"] if overlap is None else overlap
    text = doc.text
    sections = section_starts(text) if doc.path.lower().endswith(MARKDOWN) else None
    cuts = [*doc.pages, *(sections[0] if sections else ())]
    bounds = sorted({max(p, start) for p in cuts if p < len(text)} | {start})
    segments = [(a, b) for a, b in zip(bounds, [*bounds[1:], len(text)], strict=True) if a < b]
    newlines = line_breaks(text)
    chunks: list[Chunk] = []
    for seg_start, seg_end in segments:
        sentences, sizes = _sentences(text, seg_start, seg_end, count_tokens, limit)
        for i, j in _pack(sentences, sizes, min(target, limit), overlap):
            a, b = sentences[i][0], sentences[j - 1][1]
            section = section_at(sections, a) if sections else ""
            chunks.append(_chunk(doc, len(chunks), (a, b), newlines, section))
    return chunks


def _sentences(text: str, start: int, end: int, count_tokens: CountTokens, limit: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Sentence spans of text[start:end] with their token counts; over-long ones cut at words."""
    spans = split_sentences(text, start, end)
    counts = count_tokens([text[a:b] for a, b in spans])
    sentences: list[tuple[int, int]] = []
    sizes: list[int] = []
    for span, n in zip(spans, counts, strict=True):
        if n > limit:
            pieces = _split_long(text, span, count_tokens, limit)
            sentences.extend(pieces)
            sizes.extend(count_tokens([text[a:b] for a, b in pieces]))
        else:
            sentences.append(span)
            sizes.append(n)
    return sentences, sizes


def _chunk(doc: Document, ordinal: int, span: tuple[int, int], newlines: list[int], section: str) -> Chunk:
    a, b = span
    return Chunk(
        source=doc.path,
        date=doc.date,
        title=doc.title,
        ordinal=ordinal,
        start=a,
        end=b,
        line_start=line_of(newlines, a),
        line_end=line_of(newlines, b),
        text=doc.text[a:b],
        page=doc.page_at(a),
        section=section,
    )
