"""Do answers hold up when the same notes come as a web page, a Word file or a PDF?

    .venv/bin/python bench/format_answers.py [--answers bench/questions/notes.jsonl]
        [--corpus bench/questions/notes] [--split all] [--work /tmp/qa-format-answers]

The notes set's documents (Markdown and plain text) are written again, each in every format, the
way people's software writes them:
- html: markdown-it-py's rendering, the title and date in the head (`<title>`, `<meta name="date">`);
- docx: python-docx, headings as Heading styles, list items as List Bullet / List Number, tables as
  Word tables, the date as the file's creation date;
- pdf: Chromium printing that web page (`--print-to-pdf`), as a browser's "Save as PDF" does,
  with the outline (bookmarks) it writes from the headings;
- scan (with --scans, slow): each note's text wrapped to 60 characters and drawn by Pillow into
  page images of 24 lines, wrapped as a PDF with no text layer, so Tesseract reads it (OCR).
Each format's folder is indexed on its own and asked the same questions (`qa eval --answers`);
the table shows answer@1, answer@3, evidence@k, found and refused per format, beside the originals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import Library
from qa.eval.answers import load_cases, run_cases, summarise
from qa.ingest.formats import markdown
from tests.formats import docx_file, scanned_pdf

FORMATS = ("original", "html", "docx", "pdf", "scan")
SCAN_WIDTH = 60  # characters a drawn line holds
SCAN_LINES = 24  # lines a drawn page holds
METRICS = ("answer@1", "answer@3", "evidence@k", "found", "refused")


def _parts(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """A note's front matter and its markdown-it tokens (a .txt note as paragraphs, its first line the title)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".txt":
        first, _, rest = text.partition("\n")
        text = f"# {first.strip()}\n{rest}"
    tokens = markdown.parse(text)
    meta, _ = markdown.front_matter(tokens)
    return meta, [t for t in tokens if t.type != "front_matter"]


def _date(meta: dict[str, Any]) -> dt.datetime | None:
    value = meta.get("date")
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 12)
    return None


def to_html(path: Path) -> str:
    meta, tokens = _parts(path)
    body = markdown._parser().renderer.render(tokens, markdown._parser().options, {})
    first = next((tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"), path.stem)
    title = html.escape(str(meta.get("title") or first))
    date = _date(meta)
    head = f"<title>{title}</title>" + (f'<meta name="date" content="{date.date().isoformat()}">' if date else "")
    return f'<!doctype html>\n<html><head><meta charset="utf-8">{head}</head>\n<body>\n{body}</body></html>\n'


def _inline(token: Any) -> str:
    """An inline token's text, its line breaks as spaces, its markup left out."""
    spaces = {"softbreak": " ", "hardbreak": " "}
    return "".join(c.content if c.type in ("text", "code_inline") else spaces.get(c.type, "") for c in token.children or [])


def to_docx(path: Path) -> bytes:
    """The note as Word writes it (tests/formats.docx_file): headings in Heading styles, list items
    in List Bullet / List Number, tables as Word tables, the front matter's date and title as the
    file's properties."""
    meta, tokens = _parts(path)
    blocks: list[tuple[str, str]] = []
    lists: list[str] = []  # the list styles open, innermost last
    style = ""
    rows: list[list[str]] = []
    for i, t in enumerate(tokens):
        if t.type in ("bullet_list_open", "ordered_list_open"):
            lists.append("List Bullet" if t.type == "bullet_list_open" else "List Number")
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t.type in ("heading_open", "paragraph_open"):
            style = f"Heading {min(int(t.tag[1]), 9)}" if t.type == "heading_open" else lists[-1] if lists else ""
        elif t.type == "tr_open":
            rows.append([])
        elif t.type == "table_close":
            blocks.append(("table", "\n".join("|".join(cells) for cells in rows)))
            rows = []
        elif t.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            rows[-1].append(_inline(t))
        elif t.type == "inline":
            blocks.append((style, _inline(t)))
        elif t.type in ("fence", "code_block"):
            blocks.append(("", t.content.rstrip("\n")))
    title = str(meta["title"]) if meta.get("title") else None
    return docx_file(blocks, created=_date(meta), title=title)  # no date: python-docx's template's, which qa ignores


def to_pdf(page: Path, out: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("format_answers: the pdf format needs Chromium (apt-get install chromium)")
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         "--generate-pdf-document-outline", f"--print-to-pdf={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def to_scan(path: Path) -> bytes:
    """The note as a scanner sees a printout: its text lines (Markdown marks left out) drawn into pages."""
    import textwrap

    _, tokens = _parts(path)
    lines: list[str] = []
    for i, t in enumerate(tokens):
        if t.type == "inline":
            bullet = "- " if i >= 2 and tokens[i - 2].type == "list_item_open" else ""
            lines += textwrap.wrap(bullet + _inline(t), SCAN_WIDTH) + ([""] if not bullet else [])
    return scanned_pdf([lines[i : i + SCAN_LINES] for i in range(0, len(lines), SCAN_LINES)])


def convert(corpus: Path, work: Path, scans: bool) -> dict[str, Path]:
    folders = {"original": corpus}
    for name in FORMATS[1:] if scans else FORMATS[1:-1]:
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        folders[name] = folder
    pages = work / "pages"
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir(parents=True)
    for path in sorted(p for p in corpus.iterdir() if p.suffix in (".md", ".txt")):
        page = to_html(path)
        (folders["html"] / f"{path.stem}.html").write_text(page, encoding="utf-8")
        (pages / f"{path.stem}.html").write_text(page, encoding="utf-8")
        (folders["docx"] / f"{path.stem}.docx").write_bytes(to_docx(path))
        to_pdf(pages / f"{path.stem}.html", folders["pdf"] / f"{path.stem}.pdf")
        if scans:
            (folders["scan"] / f"{path.stem}.pdf").write_bytes(to_scan(path))
    return folders


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--answers", type=Path, default=Path("bench/questions/notes.jsonl"))
    p.add_argument("--corpus", type=Path, default=Path("bench/questions/notes"))
    p.add_argument("--split", choices=("dev", "test", "all"), default="all")
    p.add_argument("--work", type=Path, default=Path("/tmp/qa-format-answers"))
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.add_argument("--scans", action="store_true", help="also the notes as scanned pages, read by OCR (minutes)")
    args = p.parse_args()
    cases = [c for c in load_cases(args.answers) if args.split in ("all", c.split)]
    folders = convert(args.corpus, args.work, args.scans)
    table: dict[str, dict[str, Any]] = {}
    for name, folder in folders.items():
        index = args.work / f"index-{name}"
        shutil.rmtree(index, ignore_errors=True)
        lib = Library.open(index)
        lib.sync(folder)
        lib.warm()
        table[name] = summarise(run_cases(lib, cases, args.k))["all"]
        lib.close()
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    print(f"{len(cases)} questions ({args.answers}, split {args.split}), k={args.k}")
    print("format    " + "".join(f"{m:>12}" for m in METRICS))
    for name, row in table.items():
        print(f"{name:<10}" + "".join(f"{row[m] if row[m] is not None else '-':>12}" for m in METRICS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
