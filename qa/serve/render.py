"""HTML and chat text for the chat page. Pure functions: no gradio, no index.

Every piece of document text and every question passes through `esc` (html.escape)
before it is put into HTML: a document holding `<script>` shows as text and runs nothing.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qa.answer.structure import code, in_code, is_question, statements
from qa.library import clean_question
from qa.text import split_sentences
from qa.types import Answer, Hit, Quote, headed, where

if TYPE_CHECKING:
    import pandas as pd

_MARKER_END = re.compile(r"(?<=\])\s+")  # an answer streams one cited sentence at a time
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*$", re.MULTILINE)
EMPTY_SOURCES = "<div class='qa-empty'>The sources of the last answer show here.</div>"
EMPTY_DOCUMENT = "<div class='qa-empty'>Open a source to read its document here.</div>"


def esc(text: object) -> str:
    return html.escape(str(text))


@dataclasses.dataclass(frozen=True)
class Target:
    """A place a source card opens: a document, a passage in it and the sentence to mark."""

    source: str
    start: int
    end: int
    best_start: int
    best_end: int

    @classmethod
    def of_hit(cls, hit: Hit, quoted: Sequence[tuple[int, int]] = ()) -> Target:
        """The hit's passage; the sentence to mark is the first the answer quotes from it (document
        offsets in `quoted`), as its card marks, else its best match to the question."""
        a, b = (marks(hit, quoted) or [(hit.sentence_start, hit.sentence_end)])[0]
        return cls(hit.source, hit.start, hit.end, hit.start + a, hit.start + b)


def marks(hit: Hit, quoted: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """What a hit's card marks, as offsets in hit.text, in order: the sentences the answer quotes from
    it (document offsets in `quoted`), else its best-matching sentence without the structure run into
    it (a heading, a date line) or code; when that is a question (a FAQ's), the statement after it, which
    answers it; none when the sentence is all structure."""
    inside = sorted((a - hit.start, b - hit.start) for a, b in quoted if hit.start <= a < b <= hit.end)
    if inside:
        return inside
    lines = code(hit.text)
    best = [(a, b) for a, b in statements(hit.text, hit.sentence_start, hit.sentence_end) if not in_code(lines, a)]
    if best or not is_question(hit.text[hit.sentence_start : hit.sentence_end]):
        return best
    after = (statements(hit.text, a, b) for a, b in split_sentences(hit.text, hit.sentence_end))
    return next((s for s in after if s), [])


def cite(turn: int, n: int) -> str:
    """Marker [n] of the answer at place `turn` in the chat, a button that opens source n.

    The chat's sanitiser drops data-* attributes and keeps classes: turn and n ride in the class
    (page.OPEN_JS reads them).
    """
    return f'<button class="qa-cite qa-cite-{turn}-{n}" title="Open source [{n}] in the document viewer">[{n}]</button>'


def _quoted(quote: Quote) -> str:
    """A quote escaped, its answering phrase (if one is marked) in bold, and the line breaks a PDF
    or a hard-wrapped file puts inside a sentence shown as spaces. The code a line ending in a
    colon introduces is shown as code, without its fence ("```sh")."""
    if code(quote.text):
        return _with_code(quote.text)
    head, phrase, tail = (esc(_LINE_BREAK.sub(" ", p)) for p in quote.around)
    return f"{head}<b>{phrase}</b>{tail}" if phrase else head


def _with_code(text: str) -> str:
    """A quote that ends in code: its words, then each line of its code in <code>, fences left out."""
    lines = code(text)
    prose = esc(_LINE_BREAK.sub(" ", _FENCE_LINE.sub("", text[: lines[0][0]])).strip())
    return prose + "".join(f"<br><code>{esc(text[a:b].strip())}</code>" for a, b in lines)


def answer_pieces(answer: Answer, turn: int) -> list[str]:
    """The answer one quoted sentence at a time, escaped, its answering phrase in bold, each followed
    by its marker button; joined with spaces their text is answer.text (a line break inside a quote
    shown as a space, code a line ending in a colon leads into shown as code, its fence left out).
    An answer without quotes is cut after each "]"."""
    if answer.quotes:
        pieces = [f"{_quoted(q)} {cite(turn, q.marker)}" for q in answer.quotes]
    else:
        pieces = [esc(p) for p in _MARKER_END.split(answer.text) if p]
    return pieces + ([esc(f"({answer.date_note})")] if answer.date_note else [])


def _marked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, each (start, end) span of it in <mark>; spans clipped to the text, overlaps merged."""
    out, at = [], 0
    for start, end in sorted((max(0, min(a, len(text))), max(0, min(b, len(text)))) for a, b in spans):
        start = max(start, at)
        if end <= start:
            continue
        out.append(f"{esc(text[at:start])}<mark>{esc(text[start:end])}</mark>")
        at = end
    return "".join(out) + esc(text[at:])


def answer_note(answer: Answer) -> str:
    """What the sources panel says of how the question was searched: the date range read from it, and
    a follow-up's words carried over from the answer before ("searched as: ...")."""
    notes = [answer.date_note] if answer.date_note else []
    if answer.searched and answer.searched != clean_question(answer.question):
        notes.append(f"searched as: {answer.searched}")
    return "; ".join(notes)


def quoted_spans(answer: Answer) -> dict[int, list[tuple[int, int]]]:
    """Card number -> the document offsets of the sentences the answer quotes from that card's hit."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for quote in answer.quotes:
        spans.setdefault(quote.marker, []).append((quote.start, quote.end))
    return spans


# No score on an answer's cards: the fused score is comparable only within one question, so a weak
# card could show more than a quoted card of another answer. The order (best first), "quoted" and
# "weak" say what it would; claim checks show the cosine their label is measured on.
QUOTED_BADGE = '<span class="qa-quoted-badge" title="The answer quotes this passage">quoted</span> '
HEADED_TIP = "The document, and the headings above this passage"
WEAK_BADGE = '<span class="qa-weak-badge" title="The documents do not answer the question">weak</span> '


def _card(n: int, hit: Hit, weak: bool, extra: str = "", quoted: Sequence[tuple[int, int]] = ()) -> str:
    """One hit's card, its passage marked as `marks` says (`quoted`: the document offsets of the
    sentences the answer quotes from it)."""
    also = "".join(
        f'<div class="qa-also">also in {esc(d.source)}, {esc(d.dated)}, {esc(where(d))}</div>' for d in hit.duplicates
    )
    badge = WEAK_BADGE if weak else QUOTED_BADGE if quoted else ""
    heading = headed(hit.title, hit.section)
    title = f'<div class="qa-title" title="{HEADED_TIP}">{esc(heading)}</div>' if heading else ""
    return (
        f'<div class="qa-card{" qa-weak" if weak else ""}" data-n="{n}">'
        f'<div class="qa-head">{badge}<b>[{n}]</b> <span class="qa-file">{esc(hit.source)}</span>'
        f" · {esc(hit.dated)} · {esc(where(hit))}{extra}</div>{title}"
        f'<div class="qa-passage">{_marked(hit.text, marks(hit, quoted))}</div>{also}'
        f'<button class="qa-open" data-open="{n - 1}">Open document</button></div>'
    )


def sources_html(
    hits: tuple[Hit, ...] | list[Hit], weak: bool, note: str = "", quoted: Mapping[int, Sequence[tuple[int, int]]] | None = None
) -> str:
    """The sources panel: one card per hit, best match first. The cards numbered in `quoted` say the
    answer quotes them and mark the quoted sentences (their document offsets, as `quoted_spans` gives);
    the others mark their best sentence. Weak cards say they are weak."""
    quoted = quoted or {}
    if not hits:
        return '<div class="qa-empty">No passage matched. Try other words, another mode or a wider date range.</div>'
    head = (
        '<div class="qa-weak-note">Weak: the documents do not answer this; these are only the closest passages.</div>'
        if weak
        else '<div class="qa-note">Best match first.</div>'
    )
    head += f'<div class="qa-note">{esc(note)}</div>' if note else ""
    return head + "".join(_card(i, h, weak, quoted=quoted.get(i, ())) for i, h in enumerate(hits, 1))


def timeline_frame(items: Iterable[Any]) -> pd.DataFrame:
    """One row per dated source document (anything with .source and .date), in the order given."""
    import pandas as pd

    first: dict[str, Any] = {}
    for item in items:
        if item.date and item.source not in first:
            first[item.source] = item
    rows = [{"date": pd.Timestamp(x.date), "source": x.source, "rank": i} for i, x in enumerate(first.values(), 1)]
    return pd.DataFrame(rows, columns=["date", "source", "rank"]).astype({"date": "datetime64[ns]", "rank": int})


def timeline_limits(frame: pd.DataFrame) -> list[float | None] | None:
    """x limits (unix seconds, as gr.ScatterPlot wants) padded so no point sits on the frame."""
    import pandas as pd

    if frame.empty:
        return None
    lo, hi = frame["date"].min(), frame["date"].max()
    pad = max((hi - lo) * 0.1, pd.Timedelta(days=1))
    return [(lo - pad).timestamp(), (hi + pad).timestamp()]


def check_reply(result: Any) -> str:
    """A claim check for the chat: the label, where it occurs (oldest first), the note. Escaped."""
    where_found = f", {len(result.occurrences)} places, oldest first" if result.occurrences else ""
    lines = [f"{result.label.capitalize()}{where_found}."]
    for i, o in enumerate(result.occurrences[:5], 1):
        lines.append(f"({i}) {o.source}, {o.dated}, {where(o)}: “{o.text}”")
    lines.append(result.note)
    return esc("\n".join(lines))


def check_sources_html(result: Any) -> str:
    """Occurrences (oldest first) then related passages, each card able to open its document."""
    cards = [
        f'<div class="qa-card" data-n="{i}"><div class="qa-head"><b>({i})</b> <span class="qa-file">'
        f"{esc(o.source)}</span> · {esc(o.dated)} · {esc(where(o))} · match {o.ratio:.0f}%</div>"
        f'<div class="qa-passage"><mark>{esc(o.text)}</mark></div>'
        f'<button class="qa-open" data-open="{i - 1}">Open document</button></div>'
        for i, o in enumerate(result.occurrences, 1)
    ]
    offset = len(result.occurrences)
    weak = not result.occurrences and result.label == "not found"
    for i, h in enumerate(result.passages, 1):
        card = _card(offset + i, h, weak, extra=f" · similarity {result.support[i - 1]:.2f}" if result.support else "")
        cards.append(card)
    return "".join(cards) or sources_html((), False)


def check_targets(result: Any) -> list[Target]:
    occ = [Target(o.source, o.start, o.end, o.start, o.end) for o in result.occurrences]
    return occ + [Target.of_hit(h) for h in result.passages]
