"""HTML: the article, not the page around it. trafilatura finds the main content (no navigation,
sidebars, cookie banners, footers, comments or scripts) and its title; htmldate reads the date
from meta tags, <time datetime> and JSON-LD datePublished ("html meta"), or from the page's title
or headline ("title"). The text is one line per paragraph, heading, list item or table row
(qa/ingest/formats/blocks.py). A page too small for trafilatura to call anything main content
keeps all its visible text. trafilatura runs favouring recall: with its
default precision, notes exported as a plain page (pandoc, a static-site generator: no <article>,
short blocks) lost their headings and whole lists, while no boilerplate leaks either way on the 36
news pages of bench/bench_html.py (bench/format_answers.py: answer@1 on the notes as web pages
0.612 -> 0.689, against 0.699 for the Markdown itself).

Compared with the BeautifulSoup loader it replaces on 36 pages: docs/benchmarks/formats.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any

from qa.ingest.dating import parse_date, text_date
from qa.ingest.formats.blocks import Block, lay_out, one_line
from qa.ingest.formats.text import make_title
from qa.types import HTML_META, TITLE, Document

OLDEST_HTML_DATE = "1800-01-01"  # htmldate's own floor is 1995: older pages exist
_BLOCKS = {"p", "head", "quote", "code", "item", "row"}


def _blocks(body: Any) -> Iterator[Block]:
    """trafilatura's XML body as blocks: each <head>, <p>, list <item>, table <row>, <quote>, <code>."""
    for el in body.iter():
        if el.tag not in _BLOCKS or any(a.tag in _BLOCKS for a in el.iterancestors()):
            continue
        if el.tag == "row":
            yield Block(" | ".join(one_line("".join(c.itertext())) for c in el if one_line("".join(c.itertext()))))
        elif el.tag == "head":
            rend = str(el.get("rend") or "h2")
            yield Block("".join(el.itertext()), int(rend[1]) if rend[1:].isdigit() else 2)
        else:
            yield Block(("- " if el.tag == "item" else "") + "".join(el.itertext()))


_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HEADINGS = "|".join(f"//{tag}" for tag in _HEADING_TAGS)
KEY_CHARS = 60  # the start of the block after a heading that finds it in trafilatura's text


def _start_of(element: Any) -> str:
    """How the block after a heading starts in trafilatura's text: a table by its first row's
    cells joined as _blocks joins them, anything else by its text; "" for none."""
    if element is None or not isinstance(element.tag, str):
        return ""
    if element.tag == "table":
        row = next(iter(element.iter("tr")), None)
        cells = [one_line("".join(c.itertext())) for c in row] if row is not None else []
        return " | ".join(c for c in cells if c)[:KEY_CHARS]
    return one_line("".join(element.itertext()))[:KEY_CHARS]


def _with_headings(blocks: list[Block], tree: Any) -> list[Block]:
    """`blocks` with the page's headings put back before the blocks they head, when trafilatura
    kept none: on a plain page (an exported note: <h2>Water</h2><p>…</p>, no <article>) it drops
    every short heading, and the passages lose their sections. A heading is put back only where
    the block that follows it in the page starts one of trafilatura's blocks."""
    if any(b.heading for b in blocks) or tree is None:
        return blocks
    before: dict[str, list[Block]] = {}
    for h in tree.xpath(_HEADINGS):
        after = h.getnext()
        while after is not None and isinstance(after.tag, str) and after.tag in _HEADING_TAGS:  # an <h1> over an <h2>
            after = after.getnext()
        title, key = one_line("".join(h.itertext())), _start_of(after)
        if title and key:
            before.setdefault(key, []).append(Block(title, int(h.tag[1])))
    out: list[Block] = []
    for block in blocks:
        text = block.text[2:] if block.text.startswith("- ") else block.text  # a list item's bullet
        for key in [k for k in before if one_line(text).startswith(k)]:
            out.extend(before.pop(key))
        out.append(block)
    return out


def _page_date(tree: Any) -> tuple[dt.date | None, str]:
    """The page's date and where it came from: its metadata (meta tags, <time>, JSON-LD), or its
    title or headline, which htmldate also reads: asked again without them, htmldate finds the
    same date only when the metadata holds it."""
    from htmldate import find_date

    found = find_date(tree, extensive_search=False, original_date=True, min_date=OLDEST_HTML_DATE)
    day = parse_date(found) if found else None
    if day is None:
        return None, ""
    bare = copy.deepcopy(tree)
    for headline in bare.xpath("//title|//h1|//h2"):
        headline.getparent().remove(headline)
    again = find_date(bare, extensive_search=False, original_date=True, min_date=OLDEST_HTML_DATE)
    return day, (HTML_META if again and parse_date(again) == day else TITLE)


_TITLE_PARTS = re.compile(r"\s+[-|–—·:]\s+")  # "Storing Lists of Values with Vectors - The Rust Programming Language"


def _page_title(tree: Any, found: str) -> str:
    """The page's own title: trafilatura's, unless that is the site's name (a documentation site's
    menu <h1>) and the <title> ends with it after the page's own part, which is then the title."""
    heads = tree.xpath("//title/text()") if tree is not None else []
    parts = [p.strip() for p in _TITLE_PARTS.split(" ".join(str(heads[0]).split()))] if heads else []
    if found and len(parts) > 1 and parts[-1] == found.strip() and parts[0]:
        return parts[0]  # "Page - Site" with trafilatura's title the site's: not "Headline | CNN" read as "CNN"
    return found


def load(source: str, name: str) -> Document:
    import trafilatura
    from trafilatura.utils import load_html

    for quiet in ("trafilatura", "htmldate"):
        logging.getLogger(quiet).setLevel(logging.CRITICAL)  # they log what they could not find
    tree = load_html(source)
    date, source_of = _page_date(tree) if tree is not None else (None, "")
    found: Any = None
    if tree is not None:
        found = trafilatura.bare_extraction(
            tree, include_comments=False, include_tables=True, with_metadata=True, favor_recall=True
        )
    blocks = _with_headings(list(_blocks(found.body)), tree) if found is not None and found.body is not None else []
    layout = lay_out(blocks) if blocks else None
    if layout is None or not layout.text.strip():
        layout = lay_out([Block(line) for line in trafilatura.html2txt(source).splitlines()])
    if date is None:
        date, source_of = text_date(layout.text)
    title = _page_title(tree, (found.title if found is not None else "") or "")
    return Document(
        name, layout.text, date, make_title(title or layout.text), date_source=source_of if date else "",
        sections=layout.sections, breaks=layout.breaks,
    )  # fmt: skip
