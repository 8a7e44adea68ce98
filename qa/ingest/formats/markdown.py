"""Markdown, kept byte for byte, read with markdown-it-py (CommonMark, with tables).

Front matter (`---` YAML `---`) gives title, date and tags and is not indexed; headings give
sections; every block (a paragraph, a list item, a table row, a code block) ends a sentence.
Token line maps count \\r\\n, \\r and \\n as one break each, as qa.text does, so lines stay the file's.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import PurePosixPath
from typing import Any

from qa.ingest.dating import parse_date, text_date
from qa.ingest.formats.text import make_title
from qa.ingest.sections import PROSE_WORDS, heading_paths, markdown_headings, titles
from qa.text import line_breaks
from qa.types import FRONT_MATTER, Document

DATE_KEYS = ("date", "published", "pubdate", "publishdate", "date_published", "created")
MAX_TAGS = 50


@functools.cache
def _parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").use(front_matter_plugin).enable("table")


def parse(text: str) -> list[Any]:
    """markdown-it's block tokens of `text`."""
    return list(_parser().parse(text))


def line_starts(text: str) -> list[int]:
    """Offset of each line's first character, and len(text) past the last (for a map's end)."""
    return [0, *(b + 1 for b in line_breaks(text)), len(text)]


def front_matter(tokens: list[Any]) -> tuple[dict[str, Any], int]:
    """(YAML mapping, lines it spans) of leading front matter; ({}, 0) when there is none or it is
    not a YAML mapping (then it is text like any other)."""
    import yaml

    if not tokens or tokens[0].type != "front_matter" or not tokens[0].map:
        return {}, 0
    try:
        meta = yaml.safe_load(tokens[0].content)
    except yaml.YAMLError:
        return {}, 0
    return (meta, tokens[0].map[1]) if isinstance(meta, dict) else ({}, 0)


def _tags(meta: dict[str, Any]) -> tuple[str, ...]:
    raw = meta.get("tags", meta.get("keywords", ()))
    items = raw.replace(",", " ").split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(str(t).strip() for t in items[:MAX_TAGS] if isinstance(t, (str, int, float)) and str(t).strip())


def _meta_date(meta: dict[str, Any]) -> Any:
    lower = {str(k).lower(): v for k, v in meta.items()}
    return next((parse_date(lower[k]) for k in DATE_KEYS if k in lower and parse_date(lower[k])), None)


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")  # a badge: ![PyPI version](https://img.shields.io/…)
_URL = re.compile(r"\]\([^)]*\)|<[^<>]*>|https?://\S+")
_HTML_HEADING = re.compile(r"<h[1-3][^>]*>(.*?)</h[1-3]>", re.IGNORECASE | re.DOTALL)


def _title(tokens: list[Any], starts: list[int], headings: list[tuple[int, int, str]], body: str, name: str) -> str:
    """The title of a Markdown file without a front matter title: its first heading, when it is
    the only heading of its level and no paragraph of prose stands above it (a README's badges and
    logo may); else an HTML <h1> above the prose (a README's centred logo block); else its first
    line when that is plain words; else the file's name. A README that opens with prose and then
    "## Compatibility", or whose first of many "##" headings is "Description", is not titled so."""
    paragraphs = (t for before, t in itertools.pairwise(tokens) if before.type == "paragraph_open" and t.map)
    prose = next((starts[t.map[0]] for t in paragraphs if _is_prose(t.content)), starts[-1] + 1)
    if titles(headings) and headings[0][0] <= prose:
        return headings[0][2]
    for t in tokens:
        if t.map and starts[t.map[0]] > prose:
            break
        if t.type == "html_block" and (m := _HTML_HEADING.search(t.content)) and (words := _URL.sub(" ", m.group(1)).strip()):
            return words
    first = make_title(body)
    plain = first and not body.lstrip().startswith("#") and not _URL.search(first) and "[" not in first
    return first if plain else PurePosixPath(name).stem


def _is_prose(inline: str) -> bool:
    return len(_URL.sub(" ", _IMAGE.sub(" ", inline)).split()) >= PROSE_WORDS


def load(text: str, name: str) -> Document:
    tokens = parse(text)
    starts = line_starts(text)
    meta, meta_lines = front_matter(tokens)
    body = starts[min(meta_lines, len(starts) - 1)]
    headings = [h for h in markdown_headings(tokens, starts) if h[0] >= body]
    date, source = _meta_date(meta), FRONT_MATTER
    if date is None:
        date, source = text_date(text, body)
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    title = title or _title(tokens, starts, headings, text[body:], name)
    blocks = {starts[t.map[k]] for t in tokens if t.map and t.nesting >= 0 for k in (0, 1)}
    return Document(
        name, text, date, make_title(title), date_source=source if date else "", tags=_tags(meta), body_start=body,
        sections=heading_paths(headings) if headings else (), breaks=tuple(sorted(b for b in blocks if body < b < len(text))),
    )  # fmt: skip
