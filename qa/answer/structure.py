"""Lines that are a document's structure, not its statements: never quoted as an answer.

Front matter (`---` fences and the lines between them), Markdown headings (and lines all in bold
with no stop), bare list bullets, table rules, bylines, date lines and metadata fields ("Date: …",
"Tags: …"), news datelines ("MOSCOW, March 20. /TASS/."), the news header " date YYYY-MM-DD ", and
a short unpunctuated title line run into the sentence below it (Word headings, web page titles).
A sentence that holds such lines is cut down to the runs of lines between them. Each list item is a
statement of its own, its bullet left out, and so is each field of the body ("Author: Sven
Lindqvist", "Present: Anneke de Vries (chair), …", "Budget: 3 million euros"): notes and reports
state their facts that way, and the loaders have already left the front matter out of the body.
Each table row is a statement of its own too, and a question is none (a FAQ's "How do I reset my
password?" above its answer), nor is a table's header row (it labels the columns). A line ending
in a colon keeps what it introduces ("run the following update script:" / "$ rustup update", a
list of rules): alone it says that an answer follows, not what it is. Code fences are structure;
the code between them, doctests and reStructuredText's literal blocks are found by code(): code
illustrates, and a README's `import bm25s` matches "What is bm25s?" better than its answer does.
"""

from __future__ import annotations

import bisect
import re

_STRUCTURE = re.compile(
    r"""^\s*(
      -{3,}|\.{3,}|\+{3,}|={3,}|\*{3,}|_{3,}             # front matter fences, rules
    | (`{3,}|~{3,})\s*[\w.+\#-]*\s*(\{[^}]*\})?          # a code fence with its language: "```sh"
    | (<!--.*?-->|</?(a|b|i|em|strong|span|div|p|br|hr|img|picture|source|center|sup|sub|small|font|table|thead|tbody|tr|td|th
       |details|summary|h[1-6])\b[^<>]*>)+              # HTML tags alone: <div align="center">, a badge's <a><img></a>
    | <h[1-6][^>]*>.*</h[1-6]>                           # an HTML heading in Markdown
    | \.\.\s+[\w-]+::.*                                   # a reStructuredText directive: ".. code:: ini"
    | \#{1,6}(\s.*)?                                     # Markdown headings
    | (\*\*|__)[^*_]{0,120}?[^.!?*_\s](\*\*|__)           # a line all in bold with no stop: a heading by hand
    | [-*+•]\s*|\d+[.)]\s*                               # a bullet or a number alone
    | \|?[\s:|-]*-{3,}[\s:|-]*\|?                        # table rules
    | (date|dated|published|updated|posted|modified|created|last\ (updated|modified)|tags?|keywords|categor(y|ies)
       |filed\ under|permalink|url|link|source|share(\ this)?(\ \w+)?|read\ more|see\ also|related)\s*:.{0,100}  # metadata
    | (?-i:[A-Z][A-Z\ ]*[A-Z]):\s.{0,100}?(?<![.!?])        # a web page's label: "READ MORE: …", "INTERACTIVE: …"
    | (?-i:[a-z_])[\w-]{0,30}:(\s.{0,80}?)?(?<![.!?])    # front matter's key: value (lower case, no stop)
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
# A field of the body, "Author: Sven Lindqvist": a statement of its own. Its key is capitalised and
# at most three words, so that a hard-wrapped line ("The board agreed on one thing: the") stays in
# its paragraph.
_FIELD = re.compile(r"^\s*[A-Z][\w()/-]*(\s[\w()/-]+){0,2}:\s+\S")
_FENCE = re.compile(r"^\s*-{3,}\s*$")
# A table row: Markdown's "| log storage | 11,700 |", or the "a | b" the Word and web loaders write,
# its cells short (OCR reads a capital I as "|": "which | put down to overwatering")
_ROW = re.compile(r"^\s*\|.*\|\s*$|^\s*[^|]{1,32}(\s\|\s[^|]{1,32})+\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LEAD_IN = re.compile(r":\s*$")
_BETWEEN = re.compile(r"(\s*([-*+•]|\d+[.)]|(`{3,}|~{3,})[^\n]*|\.\.\s+[\w-]+::[^\n]*)?\s*)*\Z")
LEAD_IN_CHARS = 600  # a line ending in a colon takes in what follows it up to this length
_QUESTION = re.compile(r"\?['\"”’)\]]*\s*$")  # a question asks; it states nothing (a FAQ's question line)
MIN_CHARS = 12  # a run shorter than this is a fragment (a caption, a label), not a statement
MIN_ITEM_WORDS = 2  # a list item that short is a statement when it has this many words: "10 g salt"


# A heading or title as Word and web pages give it: a short line with no closing punctuation, run
# into the sentence on the next line (a .docx heading paragraph, an HTML <h1> above its <p>). A
# line of a hard-wrapped paragraph is longer, or runs on into a lower-case word.
_TITLE = re.compile(r"^\s*\S+(\s+\S+){0,7}\s*$")
_OPEN_END = re.compile(r"[^.,;:!?'\"”’)\]-]\s*$")


def _short(line: str) -> bool:
    """A line of at most eight words with no closing punctuation: a title's shape, or a bare list item's."""
    return bool(_TITLE.match(line) and _OPEN_END.search(line))


def is_title(line: str, following: str) -> bool:
    """True for a line of at most eight words with no closing punctuation, followed within the same
    sentence by a line that starts with a capital or a digit."""
    nxt = following.lstrip()[:1]
    return _short(line) and (nxt.isupper() or nxt.isdigit())


_TITLE_WORDS = 12
_SENTENCE_END = re.compile(r"[.!?:;,]['\"”’)\]]*\s*$")


def is_document_title(line: str) -> bool:
    """True for what a document's first line is when it is its title: one line of at most twelve
    words with no closing punctuation ("Northwind Cycles: third quarter report"). Plain text, PDFs
    and scans have no heading markup to say so."""
    return "\n" not in line.strip() and len(line.split()) <= _TITLE_WORDS and not _SENTENCE_END.search(line)


def is_question(sentence: str) -> bool:
    """True for a sentence that asks (ends in a question mark): it states nothing."""
    return bool(_QUESTION.search(sentence))


_CONTENTS = re.compile(r".{0,150}?(\s?\.){8,}\s*[\dIVXLCivxlc]*\s*$")  # "3.1 Invoking asn1Parser . . . . 12"


def is_structure(line: str) -> bool:
    """True when a line is structure: a heading, a fence, a lower-case key: value, a metadata field, a
    byline, a date line, a contents line with its dot leader."""
    return bool(_STRUCTURE.match(line)) or ((". . ." in line or "...." in line) and bool(_CONTENTS.match(line)))


_CODE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
_PROMPT = re.compile(r"^[ \t]*>>>( |$)")  # a doctest: the prompt's line and the output under it
# reStructuredText: the lines indented below a paragraph ending in "::", or below a code directive,
# are code (not those below ".. note::" or ".. warning::", which are prose)
_LITERAL = re.compile(r"^(?![ \t]*\.\.\s).*::[ \t]*$|^[ \t]*\.\.\s+(code|code-block|sourcecode|literalinclude)::")
_CODE_MARKS = ("```", "~~~", ">>>", "::")  # a text without any holds no code code() finds
_LINES = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def code(text: str) -> list[tuple[int, int]]:
    """Spans of `text`'s lines of code: inside Markdown fences, in doctests (from a ">>>" line to
    the next blank line) and in reStructuredText's literal blocks (the lines indented under a line
    ending in "::" or under ".. code:: ini"). A passage may begin inside a fenced block: then it
    holds an odd number of fences and the first has no language."""
    if not any(mark in text for mark in _CODE_MARKS):
        return []
    lines = [(m.start(), m.start() + len(m.group(1)), m.group(1)) for m in _LINES.finditer(text)]
    fences = [m for _, _, line in lines if (m := _CODE_FENCE.match(line))]
    inside = len(fences) % 2 == 1 and not fences[0].group("info")
    out: list[tuple[int, int]] = []
    literal = -1  # the indent of the line whose literal block is open; -1 when none is
    doctest = False
    for a, b, line in lines:
        indent = len(line) - len(line.lstrip())
        if _CODE_FENCE.match(line):
            inside = not inside
            continue
        if literal >= 0 and line.strip() and indent <= literal:
            literal = -1
        doctest = bool(line.strip()) and (doctest or bool(_PROMPT.match(line)))
        if (inside or doctest or literal >= 0) and line.strip():
            out.append((a, b))
        elif not inside and _LITERAL.search(line):
            literal = indent
    return out


def in_code(code: list[tuple[int, int]], start: int) -> bool:
    """True when offset `start` lies on a line of `code` (spans in order, as code() gives them)."""
    i = bisect.bisect_right(code, start, key=lambda span: span[0]) - 1
    return i >= 0 and code[i][0] <= start < code[i][1]


_PIPE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.MULTILINE)


def rows_whole(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`sentences` (spans of `text`, in order) with those that cut a Markdown table row joined: a
    cell may hold a full stop before a capital ("| Exact. Never allows a burst … |"), and a row
    read in halves loses its first cells."""
    rows = [(m.start(), m.end()) for m in _PIPE_ROW.finditer(text)]
    if not rows:
        return sentences
    out: list[tuple[int, int]] = []
    for a, b in sentences:
        i = bisect.bisect_right(rows, a, key=lambda row: row[0]) - 1
        if out and i >= 0 and rows[i][0] < a < rows[i][1] and out[-1][1] > rows[i][0]:
            out[-1] = (out[-1][0], b)  # this sentence starts inside the row the previous one ends in
        else:
            out.append((a, b))
    return out


def led_into_code(text: str, start: int, end: int, code: list[tuple[int, int]]) -> int:
    """Where the statement text[start:end] ends once it takes in the code it introduces: a line ending
    in a colon followed, past blank lines and a fence, by lines of `code` (as code() finds them),
    up to LEAD_IN_CHARS from `start` ("Run the following to test Rich output on your terminal:" /
    "```sh" / "python -m rich"); `end` when it introduces none."""
    if not _LEAD_IN.search(text, start, end):
        return end
    i = bisect.bisect_left(code, end, key=lambda span: span[0])
    if i == len(code) or code[i][1] - start > LEAD_IN_CHARS or not _BETWEEN.match(text, end, code[i][0]):
        return end
    while i + 1 < len(code) and not text[code[i][1] : code[i + 1][0]].strip() and code[i + 1][1] - start <= LEAD_IN_CHARS:
        i += 1
    return code[i][1]


_TAG = r"</?(a|b|i|em|strong|span|div|p|br|img|center|sup|sub|small|font|h[1-6])\b[^<>]*>"  # not Vec<T>
_TAGS_BEFORE = re.compile(rf"(\s*{_TAG})+")
_TAGS_AFTER = re.compile(rf"({_TAG}\s*)+\Z")


def statements(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of text[start:end] left when its structure lines are taken out: runs of
    consecutive other lines, trimmed of white space and of HTML tags at their ends ("<i>BM25S is
    … Numpy</i>"), each at least MIN_CHARS long (a list item or a field of at least MIN_ITEM_WORDS
    words may be shorter). Lines between two `---` fences are front matter."""
    out = []
    for a, b, own in _led_in(text, _runs(text, start, end)):
        if text[a:b].lstrip().startswith("<"):
            a = tags.end() if (tags := _TAGS_BEFORE.match(text, a, b)) else a
        if text[a:b].rstrip().endswith(">"):
            b = tags.start() if (tags := _TAGS_AFTER.search(text, a, b)) else b
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if (b - a >= MIN_CHARS or (own and len(text[a:b].split()) >= MIN_ITEM_WORDS)) and not is_question(text[a:b]):
            out.append((a, b))
    return out


def _runs(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """(start, end, whether it is an item, field or row of its own) of the runs of statement lines."""
    runs: list[tuple[int, int, bool]] = []
    run: tuple[int, int, bool] | None = None
    lines = list(_LINE.finditer(text, start, end))
    fenced = False
    for i, m in enumerate(lines):
        line = m.group()
        if _FENCE.match(line):
            fenced = not fenced and any(_FENCE.match(n.group()) for n in lines[i + 1 :])
        item = None if fenced else _ITEM.match(line)
        own = not fenced and not is_structure(line)
        field = own and not item and _FIELD.match(line)
        if own and _ROW.match(line) and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].group()):
            own = False  # a table's header row labels the columns
        row = own and bool(_ROW.match(line) or (not item and not field and _unmarked_item(lines, i)))  # a line of its own
        if fenced or item or field or row or not own or _is_heading(lines, i):
            if run:
                runs.append(run)
            # an item or a field starts a run of its own, which the lines wrapped from it continue
            run = (m.start() + (item.end() if item else 0), m.end(), True) if item or field else None
            if row:  # a table row is a statement of its own, never wrapped
                runs.append((m.start(), m.end(), True))
        else:
            run = (run[0], m.end(), run[2]) if run else (m.start(), m.end(), False)
    return [*runs, run] if run else runs


LIST_LINES = 3  # short unpunctuated lines in a row, this many or more, are a list's items


def _unmarked_item(lines: list[re.Match[str]], i: int) -> bool:
    """Line i is an item of a list that lost its bullets (a PDF draws them; a Word or web list read
    as plain lines): one of LIST_LINES or more short unpunctuated lines in a row, past the first
    of them unless a line ending in a colon introduces them ("Dough" / "500 g bread flour" / "350
    g water" / "10 g salt": the first is the heading, the rest are items)."""
    if not _short(lines[i].group()):
        return False
    first = i
    while first > 0 and _short(lines[first - 1].group()):
        first -= 1
    last = i
    while last + 1 < len(lines) and _short(lines[last + 1].group()):
        last += 1
    introduced = first > 0 and bool(_LEAD_IN.search(lines[first - 1].group()))
    return last - first + 1 >= LIST_LINES and (i > first or introduced)


_UNDERLINE = re.compile(r"\s*([=\-~^\"'`#*+_])\1{2,}\s*")  # reStructuredText's and Markdown's setext underline


def _is_heading(lines: list[re.Match[str]], i: int) -> bool:
    """Line i is a title run into the line below (is_title), and follows no line ending in a colon;
    or it is underlined ("Specifying the Timeout Method" over "-----------"), a title's shape of
    up to twelve words with no closing punctuation: the underline is structure, and so is the
    heading it marks."""
    if i + 1 >= len(lines):
        return False
    line, below = lines[i].group(), lines[i + 1].group()
    if _UNDERLINE.fullmatch(below) and not _UNDERLINE.fullmatch(line) and is_document_title(line) and _OPEN_END.search(line):
        return True
    after_colon = i > 0 and bool(_LEAD_IN.search(lines[i - 1].group()))
    return not after_colon and is_title(line, below)


def _led_in(text: str, runs: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Runs with each line that ends in a colon joined to the items or lines it introduces ("run
    the following update script:" / "$ rustup update"), when nothing but bullets stands between
    them, up to LEAD_IN_CHARS: alone, such a line says that an answer follows, not what it is."""
    out: list[tuple[int, int, bool]] = []
    leading = False  # the last run is a line ending in a colon with what it took in: it takes further items
    for a, b, own in runs:
        if out:
            a0, b0, _ = out[-1]
            opens = (leading and own) or (not leading and _LEAD_IN.search(text[a0:b0]))
            if opens and _BETWEEN.match(text, b0, a) and b - a0 <= LEAD_IN_CHARS:
                out[-1], leading = (a0, b, False), True
                continue
        out.append((a, b, own))
        leading = False
    return out
