"""Markdown, kept byte for byte, read with markdown-it-py (CommonMark, with tables).

Front matter (`---` YAML `---`) gives title, date and tags and is not indexed; headings give
sections; every block (a paragraph, a list item, a table row, a code block) ends a sentence.
Token line maps count \\r\\n, \\r and \\n as one break each, as qa.text does, so lines stay the file's.
"""

from __future__ import annotations

import functools
from typing import Any

from qa.ingest.dating import parse_date, text_date
from qa.ingest.formats.text import make_title
from qa.ingest.sections import heading_paths, markdown_headings
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
    title = title or (headings[0][2] if headings else "") or make_title(text[body:])
    blocks = {starts[t.map[k]] for t in tokens if t.map and t.nesting >= 0 for k in (0, 1)}
    return Document(
        name, text, date, make_title(title), date_source=source if date else "", tags=_tags(meta), body_start=body,
        sections=heading_paths(headings) if headings else (), breaks=tuple(sorted(b for b in blocks if body < b < len(text))),
    )  # fmt: skip
