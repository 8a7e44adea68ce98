"""The document viewer's HTML: the whole text escaped, its lines numbered as citations count them,
a PDF's pages marked, the cited passage highlighted and its best sentence inside it.

Line numbers and page labels are empty spans whose CSS ::before shows `data-line` / `data-page`
(page.CSS): they show in the gutter, yet the text a reader selects or copies is the document's own.
"""

from __future__ import annotations

from qa.serve.render import Target, esc
from qa.text import Lines
from qa.types import Citation, Document, describe_date, where

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


def _labels(doc: Document, lines: Lines) -> list[Tag]:
    """A page label at each page start, a line number at each line start that holds a character
    (numbered as citations number them: from the top of each page of a PDF)."""
    pages = [(start, PAGE, f'<span class="qa-page" data-page="{i}"></span>') for i, start in enumerate(doc.pages, 1)]
    starts = lines.starts(len(doc.text))
    return pages + [(start, LINE, f'<span class="qa-ln" data-line="{lines.at(start)}"></span>') for start in starts]


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
    n, lines = len(doc.text), doc.lines()
    a, b = max(0, min(target.start, n)), max(0, min(target.end, n))
    s, e = max(a, min(target.best_start, b)), max(a, min(target.best_end, b))
    body = _body(doc.text, _marks(a, s, e, b) + _labels(doc, lines))
    passage = Citation(doc.path, doc.date, doc.title, a, b, lines.at(a), lines.at(b), page=doc.page_at(a), ocr=doc.ocr_at(a))
    date = describe_date(doc.date, doc.date_source)
    head = f'<div class="qa-doc-head"><b>{esc(doc.path)}</b> · {esc(date)}'
    head += f" · {esc(doc.title)}" if doc.title else ""
    head += f'</div><div class="qa-doc-where">Passage: {esc(where(passage))}</div>'
    digits = len(str(len(lines.breaks) + 1))  # the gutter's width
    return f'{head}<div class="qa-doc-text" style="--qa-digits: {digits}">{body}</div>'
