"""The document viewer's HTML: the whole text escaped, its lines numbered as citations count them,
a PDF's pages marked, the cited passage highlighted and its best sentence inside it.

Line numbers and page labels are empty spans whose CSS ::before shows `data-line` / `data-page`
(page.CSS): they show in the gutter, yet the text a reader selects or copies is the document's own.
"""

from __future__ import annotations

from qa.serve.render import Target, esc, where
from qa.text import line_breaks, line_of
from qa.types import Citation, Document

PASSAGE, BEST, END = '<mark class="qa-passage-mark">', '<mark class="qa-best" id="qa-target">', "</mark>"
# What goes first where several tags fall on one offset: marks close, then the page label and the
# line number, then marks open. So labels and numbers stay outside the marks.
END_BEST, END_PASSAGE, PAGE, LINE, START_PASSAGE, START_BEST = range(6)
Tag = tuple[int, int, str]  # (offset, order at that offset, HTML)


def _marks(a: int, s: int, e: int, b: int) -> list[Tag]:
    """The passage [a, b) marked, its best sentence [s, e) marked inside it (empty: still a target to scroll to)."""
    if a == b:
        return [(a, START_PASSAGE, PASSAGE + BEST + END + END)]
    best = [(s, START_BEST, BEST + END)] if s == e else [(s, START_BEST, BEST), (e, END_BEST, END)]
    return [(a, START_PASSAGE, PASSAGE), (b, END_PASSAGE, END), *best]


def _labels(doc: Document, breaks: list[int]) -> list[Tag]:
    """A page label at each page start, a line number at each line start that holds a character."""
    pages = [(start, PAGE, f'<span class="qa-page" data-page="{i}"></span>') for i, start in enumerate(doc.pages, 1)]
    starts = [0, *(b + 1 for b in breaks if b + 1 < len(doc.text))]
    return pages + [(start, LINE, f'<span class="qa-ln" data-line="{i}"></span>') for i, start in enumerate(starts, 1)]


def _body(text: str, tags: list[Tag]) -> str:
    out, at = [], 0
    for offset, _, tag in sorted(tags, key=lambda t: t[:2]):  # stable: pages and lines stay in order
        out += [esc(text[at:offset]), tag]
        at = max(at, offset)
    out.append(esc(text[at:]))
    return "".join(out)


def document_html(doc: Document | None, target: Target) -> str:
    """The whole document with line numbers (and pages), the passage marked and its best sentence
    marked inside it (#qa-target, which page.SCROLL_JS scrolls into view)."""
    if doc is None:
        return f'<div class="qa-empty">{esc(target.source)} is no longer in the index.</div>'
    n, breaks = len(doc.text), line_breaks(doc.text)
    a, b = max(0, min(target.start, n)), max(0, min(target.end, n))
    s, e = max(a, min(target.best_start, b)), max(a, min(target.best_end, b))
    body = _body(doc.text, _marks(a, s, e, b) + _labels(doc, breaks))
    passage = Citation(doc.path, doc.date, doc.title, a, b, line_of(breaks, a), line_of(breaks, b), page=doc.page_at(a))
    date = doc.date.isoformat() if doc.date else "undated"
    head = f'<div class="qa-doc-head"><b>{esc(doc.path)}</b> · {esc(date)}'
    head += f" · {esc(doc.title)}" if doc.title else ""
    head += f'</div><div class="qa-doc-where">Passage: {esc(where(passage))}</div>'
    digits = len(str(len(breaks) + 1))  # the gutter's width
    return f'{head}<div class="qa-doc-text" style="--qa-digits: {digits}">{body}</div>'
