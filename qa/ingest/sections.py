"""The section a passage stands in: the Markdown headings above it, as "Costs › 2024".

ATX headings (`# Title`, `## Costs`) outside fenced code; a heading closes every deeper one
before it. Documents of other formats have no sections yet.
"""

from __future__ import annotations

import bisect
import re

SEPARATOR = " › "
MARKDOWN = (".md", ".markdown")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)


def section_starts(text: str) -> tuple[list[int], list[str]]:
    """(offsets, paths): from each offset on, until the next, the text stands in that path."""
    fenced = [m.span() for m in _FENCE.finditer(text)]
    offsets, paths = [0], [""]
    stack: list[tuple[int, str]] = []
    for m in _HEADING.finditer(text):
        if any(a <= m.start() < b for a, b in fenced):
            continue
        level, title = len(m.group(1)), m.group(2).strip()
        stack = [*(s for s in stack if s[0] < level), (level, title)]
        offsets.append(m.start())
        paths.append(SEPARATOR.join(t for _, t in stack))
    return offsets, paths


def section_at(starts: tuple[list[int], list[str]], offset: int) -> str:
    """The section path in force at `offset`."""
    offsets, paths = starts
    return paths[bisect.bisect_right(offsets, offset) - 1]
