"""Indexing speed per format: the same news articles saved as .txt, .md, .html, .pdf and .docx, and
as scanned PDF pages (OCR), loaded and then indexed from scratch.

    python -m bench.bench_formats [--files 40] [--scans 8]

load files/s: reading and parsing only (qa.ingest.loaders.load_document); index files/s: a whole
`Library.sync` into an empty index (load, chunk, encode, write), with the vector cache empty, so
each format encodes the same passages; OCR pages/s: scanned pages (Pillow images of 20 lines of
an article, 1100 px wide, wrapped as a PDF) read by Tesseract.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from qa import Library, config
from qa.ingest.loaders import load_document
from tests.formats import docx_file, pdf_pages, scanned_pdf

ARTICLES = config.cache_dir() / "news" / "articles"


def _articles(n: int) -> list[tuple[str, str]]:
    """(date, text) of n news articles."""
    out = []
    for path in sorted(ARTICLES.glob("*.txt"), key=lambda p: int(p.stem))[:n]:
        date, _, text = path.read_text(encoding="utf-8").strip().partition(" ")[2].partition(" ")
        out.append((date, text))
    return out


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")  # fpdf2's core fonts hold Latin-1


WRITERS: dict[str, Callable[[str, str], bytes]] = {
    ".txt": lambda date, text: f" date {date} {text}".encode(),
    ".md": lambda date, text: f"---\ndate: {date}\n---\n# Article\n\n{text}\n".encode(),
    ".html": lambda date, text: (
        f'<html><head><title>Article</title><meta name="date" content="{date}"></head><body><nav>Home News</nav>'
        f"<article><h1>Article</h1><p>{html.escape(text)}</p></article><footer>Copyright</footer></body></html>"
    ).encode(),
    ".pdf": lambda date, text: pdf_pages([f"Date: {date}\n{_latin(text)}"]),
    ".docx": lambda date, text: docx_file([("Title", "Article"), ("Normal", f"Date: {date}"), ("Normal", text)]),
}


def _index(folder: Path, work: Path) -> float:
    index = work / f"index-{folder.name}"
    shutil.rmtree(index, ignore_errors=True)
    lib = Library.open(index)
    start = time.perf_counter()
    lib.sync(folder)
    seconds = time.perf_counter() - start
    lib.close()
    return seconds


def _load(folder: Path) -> float:
    start = time.perf_counter()
    for path in sorted(folder.iterdir()):
        load_document(path, folder)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--scans", type=int, default=8)
    args = parser.parse_args()
    work = config.bench_dir() / "formats"
    shutil.rmtree(work, ignore_errors=True)
    articles = _articles(args.files)
    Library.open(work / "warm").encoder.encode_passages(["warm up"])  # the model loads once, outside the timings
    print(f"{args.files} news articles per format; load average {os.getloadavg()[0]:.1f}\n")
    print("| format | load files/s | index files/s (from scratch, encoding included) |")
    print("|---|---:|---:|")
    for suffix, write in WRITERS.items():
        folder = work / suffix.strip(".")
        folder.mkdir(parents=True)
        for i, (date, text) in enumerate(articles):
            (folder / f"{i:03d}{suffix}").write_bytes(write(date, text))
        load_s, index_s = _load(folder), _index(folder, work)
        print(f"| {suffix} | {len(articles) / load_s:.1f} | {len(articles) / index_s:.2f} |")
    folder = work / "scans"
    folder.mkdir()
    for i, (_, text) in enumerate(articles[: args.scans]):
        lines = textwrap.wrap(_latin(text), 70)[:20]
        (folder / f"{i:03d}.pdf").write_bytes(scanned_pdf([lines]))
    load_s, index_s = _load(folder), _index(folder, work)
    print(f"| scanned .pdf (OCR, 1 page of 20 lines each) | {args.scans / load_s:.2f} | {args.scans / index_s:.2f} |")
    print(f"\nOCR: {args.scans / load_s:.2f} pages/s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
