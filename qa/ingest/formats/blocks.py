"""The text of a document read as blocks (Word paragraphs, the elements of an HTML article): one
line per block, so a citation's lines are paragraphs, and every line end ends a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.ingest.sections import Sections, heading_paths


@dataclass(frozen=True)
class Block:
    text: str
    heading: int = 0  # a heading's level (1 the highest), 0 for body text


@dataclass(frozen=True)
class Layout:
    text: str
    sections: Sections
    breaks: tuple[int, ...]


def one_line(text: str) -> str:
    """A block's text on one line: its own line breaks and runs of white space become one space."""
    return " ".join(text.split())


def lay_out(blocks: list[Block]) -> Layout:
    """The blocks' text, one line each (empty blocks dropped), with the headings' sections and the
    start of every line as a sentence break."""
    lines: list[str] = []
    starts: list[int] = []
    headings: list[tuple[int, int, str]] = []
    offset = 0
    for block in blocks:
        line = one_line(block.text)
        if not line:
            continue
        if block.heading:
            headings.append((offset, block.heading, line))
        starts.append(offset)
        lines.append(line)
        offset += len(line) + 1
    sections = heading_paths(headings) if headings else ()
    return Layout("\n".join(lines), sections, tuple(starts[1:]))
