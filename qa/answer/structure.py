"""Lines that are a document's structure, not its statements: never quoted as an answer.

Front matter (`---`, `title: ...`), Markdown headings (and lines all in bold with no stop), bare
list bullets, table rules, bylines, date lines, news datelines ("MOSCOW, March 20. /TASS/."), the
news header " date YYYY-MM-DD ", and a short unpunctuated title line run into the sentence below
it (Word headings, web page titles).
A sentence that holds such lines is cut down to the runs of lines between them; each list item is
a statement of its own, its bullet left out.
"""

from __future__ import annotations

import re

_STRUCTURE = re.compile(
    r"""^\s*(
      -{3,}|\.{3,}|\+{3,}|={3,}|\*{3,}|_{3,}             # front matter fences, rules
    | \#{1,6}(\s.*)?                                     # Markdown headings
    | (\*\*|__)[^*_]{0,120}?[^.!?*_\s](\*\*|__)           # a line all in bold with no stop: a heading by hand
    | [-*+•]\s*|\d+[.)]\s*                               # a bullet or a number alone
    | \|?[\s:|-]*-{3,}[\s:|-]*\|?                        # table rules
    | [A-Za-z_][\w -]{0,30}:\s*[^\s].{0,80}?(?<![.!?])   # key: value (front matter, "Date: ...") with no sentence end
    | (by|written\ by|posted\ by|photo(graph)?\ by)\s+[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){0,3}  # bylines
    | date\s+\d{4}-\d{2}-\d{2}                           # the news header
    | [A-Z][A-Z.'-]+(\s[A-Z][A-Z.'-]+)*,\s+[A-Z][a-z]+\.?\s+\d{1,2}\.?     # a dateline: "MOSCOW, March 20.
      \s*(/[A-Z]+/\.?|\([A-Za-z]+\)\s*-*)?                    #   /TASS/." or "LONDON, March 3 (Reuters) -"
    | (published|updated|posted)(\s+(on|at))?\s+[^.!?]{0,30}\d[^.!?]{0,20}  # date lines
    | [^A-Za-z]*                                         # nothing to read
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_LINE = re.compile(r"[^\r\n]+")
_ITEM = re.compile(r"^\s*([-*+•]|\d+[.)])\s+")  # a list item's bullet: the item is a statement of its own
MIN_CHARS = 12  # a run shorter than this is a fragment (a caption, a label), not a statement


# A heading or title as Word and web pages give it: a short line with no closing punctuation, run
# into the sentence on the next line (a .docx heading paragraph, an HTML <h1> above its <p>). A
# line of a hard-wrapped paragraph is longer, or runs on into a lower-case word.
_TITLE = re.compile(r"^\s*\S+(\s+\S+){0,7}\s*$")
_OPEN_END = re.compile(r"[^.,;:!?'\"”’)\]-]\s*$")


def is_title(line: str, following: str) -> bool:
    """True for a line of at most eight words with no closing punctuation, followed within the same
    sentence by a line that starts with a capital or a digit."""
    nxt = following.lstrip()[:1]
    return bool(_TITLE.match(line) and _OPEN_END.search(line)) and (nxt.isupper() or nxt.isdigit())


def is_structure(line: str) -> bool:
    """True when a line is structure: a heading, a fence, a key: value, a byline, a date line."""
    return bool(_STRUCTURE.match(line))


def statements(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of text[start:end] left when its structure lines are taken out: runs of
    consecutive other lines, trimmed, each at least MIN_CHARS long."""
    runs: list[tuple[int, int]] = []
    run: tuple[int, int] | None = None
    lines = list(_LINE.finditer(text, start, end))
    for i, m in enumerate(lines):
        item = _ITEM.match(m.group())
        if item or is_structure(m.group()) or (i + 1 < len(lines) and is_title(m.group(), lines[i + 1].group())):
            if run:
                runs.append(run)
            run = (m.start() + item.end(), m.end()) if item else None
        else:
            run = (run[0], m.end()) if run else (m.start(), m.end())
    if run:
        runs.append(run)
    out = []
    for a, b in runs:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a >= MIN_CHARS:
            out.append((a, b))
    return out
