"""Main-content extraction on 36 real-looking pages (bench/html_pages.py): qa's HTML loader
(trafilatura + htmldate) against the BeautifulSoup loader it replaced (all visible text).

    python bench/bench_html.py            # prints the table for docs/benchmarks/formats.md

Per page: the share of the article's sentences kept, the share of boilerplate snippets (cookie
banner, newsletter, most read, related, comments, footer, ads) leaked into the text, whether the
title is the headline and the date the page's, and milliseconds to load.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable

from bench.html_pages import Page, pages
from qa.ingest.formats import html as qa_html
from qa.text import split_sentences


def soup_loader(source: str) -> tuple[str, str, str]:
    """The loader qa had before: (title, visible text without scripts and styles, no date)."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(source, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["head"]):
        tag.decompose()
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in soup.get_text("\n").splitlines()]
    return title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), ""


def qa_loader(source: str) -> tuple[str, str, str]:
    doc = qa_html.load(source, "page.html")
    return doc.title, doc.text, doc.date.isoformat() if doc.date else ""


def _flat(text: str) -> str:
    return " ".join(text.split())


def score(page: Page, loader: Callable[[str], tuple[str, str, str]]) -> dict[str, float]:
    start = time.perf_counter()
    title, text, date = loader(page.html)
    ms = 1000 * (time.perf_counter() - start)
    flat = _flat(text)
    sentences = [_flat(p[a:b]) for p in page.paragraphs for a, b in split_sentences(p)]
    kept = sum(s in flat for s in sentences) / len(sentences)
    leaked = sum(_flat(b) in flat for b in page.boilerplate) / len(page.boilerplate)
    return {"kept": kept, "leaked": leaked, "title": float(title == page.title), "date": float(date == page.date), "ms": ms}


def main() -> None:
    sample = pages()
    rows = {"BeautifulSoup (before)": soup_loader, "trafilatura + htmldate (qa)": qa_loader}
    print(f"{len(sample)} pages, 6 layouts; means per page\n")
    print("| loader | article sentences kept | boilerplate leaked | pages all kept, none leaked | title = headline | date right "
          "| ms/page |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, loader in rows.items():
        loader(sample[0].html)  # imports and caches outside the timing
        scores = [score(p, loader) for p in sample]
        mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
        clean = sum(s["kept"] == 1.0 and s["leaked"] == 0.0 for s in scores)
        print(
            f"| {name} | {mean['kept']:.1%} | {mean['leaked']:.1%} | {clean}/{len(scores)} | {mean['title']:.0%} "
            f"| {mean['date']:.0%} | {mean['ms']:.1f} |"
        )
    styles = dict.fromkeys(p.date_in for p in sample)
    right = {s: sum(score(p, qa_loader)["date"] for p in sample if p.date_in == s) for s in styles}
    print("\nby date markup (qa): " + ", ".join(f"{s} {right[s]:.0f}/{sum(p.date_in == s for p in sample)}" for s in styles))


if __name__ == "__main__":
    main()
