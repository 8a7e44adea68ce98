"""The section a passage stands in: the headings above it, as "Costs › 2024".

A heading closes every deeper one before it. Markdown headings come from markdown-it-py's tokens
(ATX and setext alike, never inside code); Word and HTML loaders pass their own headings.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

from qa.types import SECTION_SEPARATOR

MAX_BOLD_TITLE_WORDS = 12
PROSE_WORDS = 4  # a line or paragraph of this many words (its markup left out) is prose, not a badge or a label
Sections = tuple[tuple[int, str], ...]  # (offset, path): from that offset on, until the next


def heading_paths(headings: Iterable[tuple[int, int, str]]) -> Sections:
    """(offset, path) for each (offset, level, title) heading, in order; the text before the first
    stands in no section."""
    out: list[tuple[int, str]] = [(0, "")]
    stack: list[tuple[int, str]] = []
    for offset, level, title in headings:
        stack = [*(s for s in stack if s[0] < level), (level, " ".join(title.split()))]
        out.append((offset, SECTION_SEPARATOR.join(t for _, t in stack)))
    return tuple(out)


def markdown_headings(tokens: Sequence[Any], line_starts: Sequence[int]) -> list[tuple[int, int, str]]:
    """(offset of its first line, level, title) of each heading among markdown-it tokens. A text
    whose only headings are # titles may head its parts with a paragraph all in bold ("**Costs**"):
    those are headings at level 2, when they are at most half of its paragraphs."""
    out = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map and i + 1 < len(tokens):
            out.append((line_starts[token.map[0]], int(token.tag[1]), _plain(tokens[i + 1])))
    if any(level > 1 for _, level, _ in out):
        return out
    paragraphs = [i for i, t in enumerate(tokens[:-1]) if t.type == "paragraph_open" and t.level == 0 and t.map]
    bold = [(line_starts[tokens[i].map[0]], 2, title) for i in paragraphs if (title := _bold_title(tokens[i + 1]))]
    return sorted(out + bold) if bold and 2 * len(bold) <= len(paragraphs) else out


def _plain(inline: Any) -> str:
    """An inline token's words as a reader sees them: a link's text without its address, code
    without its backticks, images (a README's badges) left out."""
    if not inline.children:
        return str(inline.content)
    kept = (c.content if c.type in ("text", "code_inline") else " " if c.type == "softbreak" else "" for c in inline.children)
    return " ".join("".join(kept).split()) or str(inline.content)


def _bold_title(inline: Any) -> str:
    """The words of an inline token that is one bold run of a few words with no closing stop, else ""."""
    children = [c for c in inline.children or [] if c.type != "text" or c.content.strip()]
    if [c.type for c in children] != ["strong_open", "text", "strong_close"]:
        return ""
    words = children[1].content.strip()
    return words if 0 < len(words.split()) <= MAX_BOLD_TITLE_WORDS and words[-1] not in ".!?" else ""


def titles(headings: Sequence[tuple[int, int, str]]) -> bool:
    """True when the first of these (offset, level, title) headings is the only one of its level: the
    document's title ("# tidewatch", "pytest-timeout" between its rules), not the first of many parts
    ("## Compatibility", "Description")."""
    return bool(headings) and [level for _, level, _ in headings].count(headings[0][1]) == 1


def section_starts(text: str) -> Sections:
    """The sections of a Markdown text."""
    from qa.ingest.formats.markdown import line_starts, parse

    return heading_paths(markdown_headings(parse(text), line_starts(text)))


def section_at(sections: Sections, offset: int) -> str:
    """The section path in force at `offset`."""
    i = bisect.bisect_right(sections, offset, key=lambda s: s[0]) - 1
    return sections[i][1] if i >= 0 else ""
