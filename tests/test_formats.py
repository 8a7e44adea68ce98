"""Documents as people have them: PDF (text and scanned), Word, web pages, Markdown with front matter,
texts in Western encodings. Each file is made here by the software people use, indexed, and asked
about: the text, the date and where it came from, and a citation whose page and lines hold the quote."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import Library
from qa.errors import DocumentError
from qa.ingest.loaders import load_document
from qa.ingest.sections import section_at
from qa.types import Document, Hit

from .formats import docx_file, pdf_pages, scanned_pdf

CREATED = dt.datetime(2020, 5, 17, 9, 30, tzinfo=dt.UTC)
ATLAS = [
    "Survey of the southern highlands\nThe cartographer drew the coastline of Iceland in 1911.",
    "Volcanic fields\nBasalt lava fields stretch for miles near Hekla.\nThe surveyors camped by the river Thjorsa.",
]
SCAN = [["The lighthouse keeper of Skerryvore", "counted forty gulls on the rocks.", "Date: 2019-08-14"]]
WORD = [
    ("Title", "Harbour board minutes"),
    ("Normal", "The harbour board met on a cold Tuesday morning."),
    ("Heading 1", "Dredging"),
    ("Normal", ""),
    ("Normal", "The dredger Maria will deepen the north channel by two metres."),
    ("table", "Item|Cost\nDredging|40000 euros\nNew buoys|6000 euros"),
    ("Heading 2", "Funding"),
    ("Normal", "The fishermen's cooperative pays a third of the dredging."),
]
PAGE = """<!DOCTYPE html><html><head><title>Ferry delayed by storm | The Island Courier</title>
<meta name="date" content="2023-07-15"><script>var tracking = "do not index this";</script></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies to continue.</div>
<article><h1>Ferry delayed by storm</h1>
<p>The ferry to Skye left two hours late on Tuesday because of the storm that hit the west coast overnight.</p>
<p>About three hundred passengers waited in the terminal, the harbour master said. Some of them slept on benches.</p>
<h2>Compensation</h2><p>The ferry company will refund every ticket bought for the cancelled morning crossing.</p>
</article><aside class="sidebar"><h3>Most read</h3><ul><li>Ten gadgets you will not believe are real</li></ul></aside>
<footer>Copyright 2023 The Island Courier. All rights reserved.</footer></body></html>"""
NOTES = """---
title: Riverside library extension
date: 2024-03-02
tags: [library, council]
---
# Riverside library extension

The extension opens in September 2024

## Costs

- The council pays two thirds of the cost
- A local trust pays the rest of the cost
- The architect waives her fee

```
total = design + build   # no sentence here
```
"""
DATED_NOTE = "# Allotment society\n\nDate: 2023-06-01\n\nThe allotment society planted a row of quince trees.\n"
PUBLISHED = "Parish newsletter\nPublished 4 May 2023\n\nThe bell ringers of Saint Olave rang a full peal for the coronation.\n"
ENCODED = {
    "besancon-latin1.txt": ("latin-1", "Le boulanger de Besançon a vendu trois gâteaux à Noël. Il a fermé à midi."),
    "cadiz-cp1252.txt": ("cp1252", "El señor Núñez dijo: “¡Qué día!” — y el puerto de Cádiz cerró al mediodía."),
    "koln-utf16.txt": ("utf-16", "Der Bürgermeister von Köln eröffnete die Brücke über den Rhein."),
    "coimbra-utf8.txt": ("utf-8", "A estação de comboios de Coimbra reabriu após as obras de manutenção."),
    "tea-cp1252.txt": ("cp1252", "The café’s owner said “crème brûlée” sells out by noon… every Sunday – €4 a slice."),
}


def line_texts(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def cited(doc: Document, hit: Hit) -> str:
    """The lines a reader finds at the hit's page and lines: counted from the top of the page."""
    top = doc.pages[hit.page - 1] if hit.page else 0
    end = doc.pages[hit.page] if hit.page and hit.page < len(doc.pages) else len(doc.text)
    return "\n".join(line_texts(doc.text[top:end])[hit.line_start - 1 : hit.line_end])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    (folder / "atlas.pdf").write_bytes(pdf_pages(ATLAS, created=CREATED))
    (folder / "skerryvore-scan.pdf").write_bytes(scanned_pdf(SCAN))
    (folder / "minutes.docx").write_bytes(docx_file(WORD, created=CREATED))
    (folder / "ferry.html").write_text(PAGE, encoding="utf-8")
    (folder / "riverside.md").write_text(NOTES, encoding="utf-8")
    (folder / "allotment.md").write_text(DATED_NOTE, encoding="utf-8")
    (folder / "newsletter.txt").write_text(PUBLISHED, encoding="utf-8")
    (folder / "undated.txt").write_text("The beekeeper moved forty hives to the heather moor.", encoding="utf-8")
    os.utime(folder / "undated.txt", (dt.datetime(2022, 8, 9, 12).timestamp(),) * 2)
    for name, (encoding, text) in ENCODED.items():
        (folder / name).write_bytes(text.encode(encoding))
    return folder


@pytest.fixture(scope="module")
def lib(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    lib = Library.open(tmp_path_factory.mktemp("formats-index"))
    report = lib.sync(folder)
    assert report.skipped == () and report.added == 8 + len(ENCODED)
    yield lib
    lib.close()


def top(lib: Library, question: str, source: str) -> Hit:
    hit = next(h for h in lib.retrieve(question, k=3, mode="keyword") if h.source == source)
    doc = lib.document(source)
    assert doc is not None and doc.text[hit.start : hit.end] == hit.text
    assert hit.text in cited(doc, hit), (hit.page, hit.line_start, hit.line_end)
    return hit


def test_pdf_lines_are_counted_within_their_page(lib: Library) -> None:
    hit = top(lib, "Basalt lava fields near Hekla", "atlas.pdf")
    assert (hit.page, hit.line_start, hit.line_end) == (2, 1, 3)  # all of page 2: lines 1-3, not 4-6 of the file
    assert "Basalt lava fields" in hit.text and not hit.ocr and hit.title == "Survey of the southern highlands"
    assert (hit.date, hit.date_source) == (dt.date(2020, 5, 17), "pdf metadata")
    assert hit.to_json()["date_source"] == "pdf metadata"


def test_scanned_pdf_is_read_by_ocr_and_says_so(lib: Library) -> None:
    hit = top(lib, "lighthouse keeper Skerryvore gulls", "skerryvore-scan.pdf")
    assert "lighthouse keeper" in hit.text.lower() and "forty gulls" in hit.text
    assert hit.page == 1 and hit.ocr and hit.to_json()["ocr"] is True
    assert (hit.date, hit.date_source) == (dt.date(2019, 8, 14), "date line")
    doc = lib.document("skerryvore-scan.pdf")
    assert doc is not None and doc.ocr_pages == (1,)


def test_docx_paragraphs_headings_and_tables(lib: Library) -> None:
    doc = lib.document("minutes.docx")
    assert doc is not None and doc.title == "Harbour board minutes"
    assert (doc.date, doc.date_source) == (dt.date(2020, 5, 17), "docx metadata")
    lines = line_texts(doc.text)
    assert "Dredging | 40000 euros" in lines and "" not in lines  # a table row is a line; empty paragraphs are not
    hit = top(lib, "dredger Maria north channel", "minutes.docx")
    assert lines[3] == "The dredger Maria will deepen the north channel by two metres."  # line 4: the 4th paragraph with text
    assert hit.section == "Harbour board minutes › Dredging" and (hit.line_start, hit.line_end) == (3, 7)
    funding = top(lib, "fishermen's cooperative pays a third", "minutes.docx")
    assert funding.section == "Harbour board minutes › Dredging › Funding"


def test_html_keeps_the_article_and_its_date(lib: Library) -> None:
    doc = lib.document("ferry.html")
    assert doc is not None and doc.title == "Ferry delayed by storm"
    assert (doc.date, doc.date_source) == (dt.date(2023, 7, 15), "html meta")
    assert "left two hours late" in doc.text and "refund every ticket" in doc.text
    for boilerplate in ("cookies", "Most read", "gadgets", "Copyright", "tracking", "Sport"):
        assert boilerplate not in doc.text
    hit = top(lib, "refund every ticket cancelled crossing", "ferry.html")
    assert hit.section == "Ferry delayed by storm › Compensation"


def test_html_notes_keep_their_headings_lists_and_tables(tmp_path: Path) -> None:
    """A page of notes as pandoc or a static-site generator writes it: no <article>, short blocks.
    trafilatura's default precision dropped the headings and the whole timeline list here."""
    page = (
        "<!doctype html><html><head><title>Checkout outage</title></head><body>"
        "<h1>Checkout outage review</h1><p>For 47 minutes on 7 February customers could not pay.</p>"
        "<h2>Timeline</h2><ul><li>14:02 A configuration change lowered the connection pool to 20.</li>"
        "<li>14:09 Aiko Tanaka, the on-call engineer, was paged.</li><li>14:49 Payments recovered.</li></ul>"
        "<h2>Costs</h2><table><tr><th>item</th><th>euros</th></tr><tr><td>refunds</td><td>12000</td></tr>"
        "<tr><td>overtime</td><td>3400</td></tr><tr><td>credits</td><td>900</td></tr></table>"
        "<p>The shared template now gets a schema check before every deploy.</p></body></html>"
    )  # fmt: skip
    (tmp_path / "outage.html").write_text(page)
    doc = load_document(tmp_path / "outage.html", tmp_path)
    lines = line_texts(doc.text)
    assert "- 14:09 Aiko Tanaka, the on-call engineer, was paged." in lines
    assert "Timeline" in lines and "refunds | 12000" in lines
    assert section_at(doc.sections, doc.text.index("Aiko")) == "Checkout outage review › Timeline"


def test_html_date_read_from_the_headline_says_so(tmp_path: Path) -> None:
    """htmldate reads a page's <title> and <h1> too: a date found only there is the title's, not metadata."""
    body = "<p>The board met and agreed the budget for the new boathouse roof.</p>"
    headline = f"<html><head><title>Minutes</title></head><body><h1>Minutes, 12 March 2024</h1>{body}</body></html>"
    (tmp_path / "headline.html").write_text(headline)
    (tmp_path / "meta.html").write_text(
        "<html><head><title>Minutes, 12 March 2024</title><meta name='date' content='2024-03-14'></head>"
        f"<body><h1>Minutes</h1>{body}</body></html>"
    )  # fmt: skip
    dated = {p.name: load_document(p, tmp_path) for p in tmp_path.glob("*.html")}
    assert (dated["headline.html"].date, dated["headline.html"].date_source) == (dt.date(2024, 3, 12), "title")
    assert (dated["meta.html"].date, dated["meta.html"].date_source) == (dt.date(2024, 3, 14), "html meta")


@pytest.mark.parametrize(
    ("markup", "day"),
    [
        ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2021-11-02T10:00:00Z"}</script>',
         dt.date(2021, 11, 2)),
        ('<meta property="article:published_time" content="2020-02-29T08:00:00+00:00">', dt.date(2020, 2, 29)),
        ("", dt.date(2019, 3, 8)),  # from <time datetime> in the body
    ],
)  # fmt: skip
def test_html_date_from_json_ld_open_graph_and_time(tmp_path: Path, markup: str, day: dt.date) -> None:
    body = "<p>The orchestra played Sibelius in the old cathedral to a full house of music lovers.</p>" * 3
    time = '<time datetime="2019-03-08">8 March</time>' if not markup else ""
    page = f"<html><head><title>T</title>{markup}</head><body><article>{time}{body}</article></body></html>"
    (tmp_path / "p.html").write_text(page)
    doc = load_document(tmp_path / "p.html", tmp_path)
    assert (doc.date, doc.date_source) == (day, "html meta")


def test_markdown_front_matter_is_metadata_and_lines_stay_the_files(lib: Library) -> None:
    doc = lib.document("riverside.md")
    assert doc is not None and doc.text == NOTES  # byte for byte: line numbers are the file's
    assert (doc.title, doc.date, doc.date_source, doc.tags) == (
        "Riverside library extension", dt.date(2024, 3, 2), "front matter", ("library", "council"))  # fmt: skip
    view = lib.view()
    rows = view.catalog.db.execute("SELECT c.text, c.line_start FROM chunks c JOIN documents d ON d.id = c.doc_id "
                                   "WHERE d.path = 'riverside.md'").fetchall()  # fmt: skip
    assert rows and all("title:" not in t and "---" not in t for t, _ in rows)  # front matter is not indexed
    assert min(line for _, line in rows) == 6  # the heading, on the file's line 6
    hit = top(lib, "local trust pays the rest", "riverside.md")
    assert hit.section == "Riverside library extension › Costs" and hit.line_start == 10  # the file's "## Costs"
    assert line_texts(NOTES)[9] == "## Costs"


def test_markdown_list_items_and_code_are_sentences_of_their_own(lib: Library) -> None:
    from embeddings.encoder import token_counter
    from qa.ingest.chunking import chunk_document

    doc = load_document(Path(str(lib.folder)) / "riverside.md", Path(str(lib.folder)))
    pieces = [c.text for c in chunk_document(doc, token_counter(None), target=1, overlap=0)]
    assert "- The council pays two thirds of the cost" in pieces
    assert "- A local trust pays the rest of the cost" in pieces
    assert any(p.startswith("```") and "total = design" in p for p in pieces)


@pytest.mark.parametrize(
    ("source", "day", "how"),
    [("allotment.md", dt.date(2023, 6, 1), "date line"), ("newsletter.txt", dt.date(2023, 5, 4), "date line"),
     ("undated.txt", dt.date(2022, 8, 9), "file date")],
)  # fmt: skip
def test_date_lines_near_the_top_and_the_file_date_fallback(lib: Library, source: str, day: dt.date, how: str) -> None:
    doc = lib.document(source)
    assert doc is not None and (doc.date, doc.date_source) == (day, how)


@pytest.mark.parametrize("name", list(ENCODED))
def test_western_encodings_are_read_exactly(lib: Library, name: str) -> None:
    encoding, text = ENCODED[name]
    doc = lib.document(name)
    assert doc is not None and doc.text == text, encoding


def test_accented_words_are_found(lib: Library) -> None:
    assert top(lib, "Besançon boulanger", "besancon-latin1.txt").line_start == 1
    assert top(lib, "Núñez Cádiz", "cadiz-cp1252.txt").source == "cadiz-cp1252.txt"


def test_cli_and_json_show_where_the_date_came_from(lib: Library) -> None:
    cmd = [sys.executable, "-m", "qa.cli", "ask", "lighthouse keeper counted gulls", "--index", str(lib.store.root), "--k", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "skerryvore-scan.pdf:1-3 · page 1 (OCR), 2019-08-14 (date line) · score" in out.stdout
    data = json.loads(subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300).stdout)
    assert {"date": "2019-08-14", "date_source": "date line", "ocr": True}.items() <= data["hits"][0].items()


def test_encrypted_pdfs(tmp_path: Path) -> None:
    (tmp_path / "open.pdf").write_bytes(pdf_pages(["Glacier retreat was measured at Vatnajokull."], password=""))
    assert "Vatnajokull" in load_document(tmp_path / "open.pdf", tmp_path).text  # AES, empty password
    (tmp_path / "locked.pdf").write_bytes(pdf_pages(["Glacier retreat was measured at Vatnajokull."], password="s3cret"))
    with pytest.raises(DocumentError, match=r"^locked\.pdf: encrypted PDF .* — .*without the password"):
        load_document(tmp_path / "locked.pdf", tmp_path)


def test_a_scan_without_the_ocr_engine_names_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf(SCAN))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(DocumentError) as info:
        load_document(tmp_path / "scan.pdf", tmp_path)
    message = str(info.value)
    assert message.startswith("scan.pdf: page 1 is a scan") and "apt-get install tesseract-ocr tesseract-ocr-eng" in message
    assert "\n" not in message


def test_the_chat_card_and_viewer_show_the_date_source_and_ocr(lib: Library) -> None:
    from qa.serve.render import Target, sources_html
    from qa.serve.viewer import document_html

    hit = top(lib, "lighthouse keeper Skerryvore gulls", "skerryvore-scan.pdf")
    card = sources_html([hit], weak=False)
    assert "2019-08-14 (date line)" in card and "page 1 (OCR), lines 1-3" in card
    markup = document_html(lib.document(hit.source), Target.of_hit(hit))
    assert "2019-08-14 (date line)" in markup and "Passage: page 1 (OCR), lines 1-3" in markup


def test_docx_written_by_a_script_is_not_dated_by_its_template(tmp_path: Path) -> None:
    """python-docx stamps every file it writes with its template's creation (2013-12-23) unless told
    otherwise: that is nobody's date, so the file's own date stands instead."""
    (tmp_path / "report.docx").write_bytes(docx_file([("Heading 1", "Quarterly report"), ("", "Sales rose by a tenth.")]))
    os.utime(tmp_path / "report.docx", (1_650_000_000, 1_650_000_000))  # 2022-04-15
    doc = load_document(tmp_path / "report.docx", tmp_path)
    assert doc.date != dt.date(2013, 12, 23)
    lib = Library.open(tmp_path / "index")
    lib.sync(tmp_path)
    listed = lib.document("report.docx")
    assert listed is not None and (listed.date, listed.date_source) == (dt.date(2022, 4, 15), "file date")
    lib.close()


def test_dates_from_the_title_line_and_the_file_name(tmp_path: Path) -> None:
    """On a fresh checkout every file's time is today: a date the title names, or the file's name,
    is the document's, and says so. A month alone is not a date."""
    (tmp_path / "minutes.md").write_text("# Rowing club — board minutes, 12 March 2024\n\nThe board met.\n")
    wrapped = pdf_pages(["Rowing club board minutes of 5 March\n2024\nThe board met."], created=CREATED)
    (tmp_path / "wrapped.pdf").write_bytes(wrapped)
    copied = docx_file([("Title", "Minutes, June 4, 2021"), ("", "The board met.")], created=CREATED)
    (tmp_path / "template.docx").write_bytes(copied)
    (tmp_path / "outage-2024-02-07.md").write_text("# Checkout outage\n\nCustomers could not pay for 47 minutes.\n")
    (tmp_path / "trip.txt").write_text("Lisbon trip notes, June 2023\n\nWe flew in on a Tuesday.\n")
    os.utime(tmp_path / "trip.txt", (dt.datetime(2022, 8, 9, 12).timestamp(),) * 2)
    found = {p.name: load_document(p, tmp_path) for p in tmp_path.iterdir()}
    assert {name: (d.date, d.date_source) for name, d in found.items()} == {
        "minutes.md": (dt.date(2024, 3, 12), "title"),
        "wrapped.pdf": (dt.date(2024, 3, 5), "title"),  # the title wrapped onto a second line
        "template.docx": (dt.date(2021, 6, 4), "title"),  # before the properties: a copied file keeps its old ones
        "outage-2024-02-07.md": (dt.date(2024, 2, 7), "file name"),
        "trip.txt": (dt.date(2022, 8, 9), "file date"),
    }


def test_pdf_sections_come_from_its_outline(tmp_path: Path) -> None:
    """A PDF's bookmarks (fpdf2's start_section, as Word and browsers write them from headings) are
    its sections; a heading ends the sentence before it, and a bookmark whose words are not at a
    line's start on its page (a mention in running text, a stale entry) opens nothing."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pages = [
        [("Harbour works", 0), ("Dredging", 1), ("The dredger Maria deepens the north channel by two metres.", None)],
        [("Funding", 1), ("The cooperative pays a third and the port pays for Dredging the rest.", None)],
    ]
    for lines in pages:
        pdf.add_page()
        for text, level in lines:
            if level is not None:
                pdf.start_section(text, level)
            pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.start_section("Appendix", 0)  # a stale bookmark: no such heading in the text
    (tmp_path / "works.pdf").write_bytes(bytes(pdf.output()))
    doc = load_document(tmp_path / "works.pdf", tmp_path)

    def section(words: str) -> str:
        return section_at(doc.sections, doc.text.index(words))

    assert section("The dredger Maria") == "Harbour works › Dredging"
    assert section("The cooperative pays") == "Harbour works › Funding"
    assert "Appendix" not in {path.rsplit(" › ", 1)[-1] for _, path in doc.sections}
    heading_end = doc.text.index("Dredging\n") + len("Dredging\n")
    assert heading_end in doc.breaks  # "Dredging" is never read into the sentence below it


def test_pdf_without_an_outline_takes_its_headings_from_the_type_size(tmp_path: Path) -> None:
    """No bookmarks (fpdf2, many exports): lines set larger than the body are headings, the largest
    level 1; a heading wrapped over two lines is one; a PDF in one size has no sections."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for size, text in [(22, "Harbour works board minutes, 12 March\n2024"), (16, "Dredging"),
                       (11, "The dredger Maria deepens the north channel by two metres. " * 3),
                       (16, "Funding"), (11, "The fishermen's cooperative pays a third of the cost. " * 3)]:  # fmt: skip
        pdf.set_font("Helvetica", size=size)
        pdf.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    (tmp_path / "minutes.pdf").write_bytes(bytes(pdf.output()))
    doc = load_document(tmp_path / "minutes.pdf", tmp_path)
    paths = [path for _, path in doc.sections]
    assert paths == ["", "Harbour works board minutes, 12 March 2024", "Harbour works board minutes, 12 March 2024 › Dredging",
                     "Harbour works board minutes, 12 March 2024 › Funding"]  # fmt: skip
    assert (doc.date, doc.date_source) == (dt.date(2024, 3, 12), "title")
    (tmp_path / "plain.pdf").write_bytes(pdf_pages(["Dredging\nThe dredger Maria deepens the north channel by two metres."]))
    assert load_document(tmp_path / "plain.pdf", tmp_path).sections == ()


def test_ocr_lines_are_laid_out_by_the_space_between_them() -> None:
    """Tesseract's own blocks fall inside paragraphs ("... on 18" / "October."): only space on the
    page, or the top of the next column, makes a blank line (which ends a sentence)."""
    from qa.ingest.formats.ocr import lay_out

    lines = [  # (block, top, words): a 60-pixel pitch, a block boundary inside the first paragraph
        (1, 40, "Prepared by the finance office on 18"), (2, 100, "October. Revenue rose."),
        (3, 220, "Shops"), (3, 280, "The Utrecht shop was the strongest."), (4, 40, "Second column text.")]  # fmt: skip
    data: dict[str, list[object]] = {k: [] for k in ("text", "block_num", "par_num", "line_num", "top", "height")}
    for n, (block, top, words) in enumerate(lines):
        for word in words.split():
            for key, value in zip(data, (word, block, 1, n, top, 20), strict=True):
                data[key].append(value)
    assert lay_out(data)[0] == (  # type: ignore[arg-type]
        "Prepared by the finance office on 18\nOctober. Revenue rose.\n\nShops\nThe Utrecht shop was the strongest.\n\n"
        "Second column text."
    )  # fmt: skip
    assert lay_out({"text": []}) == ("", [])


def test_scanned_headings_are_the_lines_drawn_larger(tmp_path: Path) -> None:
    """On a scan, Tesseract's word heights tell the headings: drawn larger than the body text, they
    open sections; a page in one size has none (Tesseract's heights vary with the letters)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    lines = [(44, "Harbour works"), (28, "The dredger Maria deepens the north channel by"),
             (28, "two metres before the summer season opens."), (44, "Funding"),
             (28, "The fishermen's cooperative pays a third of the"),
             (28, "cost and the port authority pays the rest.")]  # fmt: skip
    image = Image.new("L", (1100, 80 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, (size, text) in enumerate(lines):
        draw.text((40, 40 + 80 * i), text, fill=0, font=ImageFont.load_default(size=size))
    page = io.BytesIO()
    image.save(page, "PDF", resolution=150)
    (tmp_path / "works.pdf").write_bytes(page.getvalue())
    doc = load_document(tmp_path / "works.pdf", tmp_path)
    assert doc.ocr_pages == (1,)
    assert section_at(doc.sections, doc.text.index("The fishermen")) == "Funding"
    assert [path for _, path in doc.sections] == ["", "Harbour works", "Funding"]
    (tmp_path / "plain.pdf").write_bytes(scanned_pdf([[text for _, text in lines]]))
    assert load_document(tmp_path / "plain.pdf", tmp_path).sections == ()


def _word(build: Callable[[Any], None]) -> bytes:
    import io

    import docx

    word = docx.Document()
    build(word)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def test_word_headings_set_by_hand_or_by_a_custom_style(tmp_path: Path) -> None:
    """People's Word files: headings typed in bold, or a house style based on Heading 1; each opens
    a section. A memo all in bold has none."""
    from docx.enum.style import WD_STYLE_TYPE

    def bold_headings(word: Any) -> None:
        word.add_paragraph("Harbour board minutes", style="Title")
        for head, body in [("Dredging", "The dredger Maria deepens the north channel by two metres."),
                           ("Funding", "The fishermen's cooperative pays a third of the cost.")]:  # fmt: skip
            word.add_paragraph().add_run(head).bold = True
            word.add_paragraph(body)

    def house_style(word: Any) -> None:
        style = word.styles.add_style("Report Section", WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = word.styles["Heading 1"]
        word.add_paragraph("Dredging", style="Report Section")
        word.add_paragraph("The dredger Maria deepens the north channel by two metres.")

    def bold_memo(word: Any) -> None:
        for text in ["Note to staff", "The office closes at noon on Friday.", "Thank you"]:
            word.add_paragraph().add_run(text).bold = True

    for name, build in [("bold.docx", bold_headings), ("house.docx", house_style), ("memo.docx", bold_memo)]:
        (tmp_path / name).write_bytes(_word(build))
    bold, house, memo = (load_document(tmp_path / n, tmp_path) for n in ("bold.docx", "house.docx", "memo.docx"))

    def section(doc: Document, words: str) -> str:
        return section_at(doc.sections, doc.text.index(words))

    assert section(bold, "The fishermen") == "Harbour board minutes › Funding"
    assert section(house, "The dredger") == "Dredging"
    assert memo.sections == ()


def test_markdown_headings_typed_in_bold(tmp_path: Path) -> None:
    """Notes whose parts are headed "**Costs**" rather than "## Costs": each is a section, and never
    quoted as an answer; a bold word in a sentence or a bold sentence with its stop is text."""
    note = ("# Garden notes\n\n**Costs**\n\nThe rainwater tanks cost 400 euros in total.\n\n**Pests in the compost**\n\n"
            "Rats came for the compost heap in the autumn. A **bold** word is text.\n\n**The tanks are full.**\n")  # fmt: skip
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "garden.md").write_text(note)
    lib = Library.open(tmp_path / "index")
    lib.sync(tmp_path / "docs")
    doc = load_document(tmp_path / "docs" / "garden.md", tmp_path / "docs")
    assert [p for _, p in doc.sections] == ["", "Garden notes", "Garden notes › Costs", "Garden notes › Pests in the compost"]
    answer = lib.ask("What came for the compost heap?")
    assert answer.found and answer.quotes[0].text.startswith("Rats came")
    assert all("**Pests" not in q.text for q in answer.quotes)
    assert answer.hits[0].section == "Garden notes › Pests in the compost"
    lib.close()


def test_a_readmes_title_and_sections_are_its_words_not_its_badges(tmp_path: Path) -> None:
    """A README opens with badges, a logo block or prose; its first of many "##" headings is not its
    title, and a heading's link or badge shows as its words."""
    def loaded(name: str, text: str) -> Document:
        (tmp_path / name).write_text(text, encoding="utf-8")
        return load_document(tmp_path / name, tmp_path)

    badges = "[![PyPI](https://img.shields.io/pypi/v/rich.svg)](https://pypi.org/project/rich)\n\n"
    intro = "Rich is a library for rich text in the terminal.\n\n"
    prose = loaded("rich.md", f"{badges}{intro}## Compatibility\n\nLinux.\n\n## Installing\n\npip.\n")
    assert prose.title == "rich"
    assert [p for _, p in prose.sections] == ["", "Compatibility", "Installing"]
    sections = "## Installation\n\npip install.\n\n## Usage\n\nCall it.\n"
    logo = loaded("bm25s.md", f'<div align="center">\n<h1>BM25S</h1>\n</div>\n\n{sections}')
    assert logo.title == "BM25S"
    linked = loaded("sse.md", f"{badges}# Events for [Starlette](https://x.org) ![b](https://y.org/b.svg)\n\nText here.\n")
    assert linked.title == "Events for Starlette"
    assert [p for _, p in linked.sections] == ["", "Events for Starlette"]
    plain = loaded("meeting.md", "Notes from the board meeting\n\nWe agreed on the budget.\n")
    assert plain.title == "Notes from the board meeting"


def test_a_manuals_title_is_its_own_not_its_first_chapters_nor_its_sites(tmp_path: Path) -> None:
    """A PDF manual's first line above its contents ("Libtasn1"), not the outline's first entry;
    a documentation page's <title> part ("Data Types - The Rust Programming Language"), not the
    site's name its menu sets as <h1>."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for page, text in enumerate(["Libtasn1\nA library for ASN.1 structures", "1 Introduction\nThe library parses ASN.1."]):
        pdf.add_page()
        if page:
            pdf.start_section("1 Introduction")
        pdf.multi_cell(0, 8, text)
    (tmp_path / "manual.pdf").write_bytes(bytes(pdf.output()))
    assert load_document(tmp_path / "manual.pdf", tmp_path).title == "Libtasn1"
    page = (
        "<html><head><title>Data Types - The Rust Programming Language</title></head><body>"
        '<div class="menu"><h1 class="menu-title">The Rust Programming Language</h1></div><main><h1>Data Types</h1>'
        "<p>Every value in Rust is of a certain data type, which tells Rust what kind of data is being specified.</p>"
        "<p>Rust has four primary scalar types: integers, floating-point numbers, Booleans, and characters.</p></main>"
        "</body></html>"
    )
    (tmp_path / "types.html").write_text(page, encoding="utf-8")
    assert load_document(tmp_path / "types.html", tmp_path).title == "Data Types"


def test_plain_text_headings_underlined_the_restructuredtext_way(tmp_path: Path) -> None:
    """A plain-text README or note heads its parts with underlines ("Usage" over "====="): each is
    a section, the one top heading its title; a rule between paragraphs or after a sentence is not."""
    text = (
        ".. |pypi| image:: https://img.shields.io/pypi/v/pytest-timeout.svg\n\n==============\npytest-timeout\n"
        "==============\n\nThis plugin aborts hanging tests after a timeout.\n\nUsage\n=====\n\nInstall it with pip.\n\n"
        "Timeout methods\n===============\n\nsignal\n------\n\nUses SIGALRM to schedule an alarm.\n\nNo heading here.\n"
        "------\n\n-----\n\nThe end of the file.\n"
    )
    (tmp_path / "README.txt").write_text(text, encoding="utf-8")
    doc = load_document(tmp_path / "README.txt", tmp_path)
    assert doc.title == "pytest-timeout"
    assert [p for _, p in doc.sections] == [  # the title's overlined style is a level of its own
        "", "pytest-timeout", "pytest-timeout › Usage", "pytest-timeout › Timeout methods",
        "pytest-timeout › Timeout methods › signal",
    ]  # fmt: skip
    assert section_at(doc.sections, doc.text.index("Uses SIGALRM")) == "pytest-timeout › Timeout methods › signal"


def test_a_plain_web_page_keeps_its_headings_as_sections(tmp_path: Path) -> None:
    """A note exported as a bare page (<h2>Water</h2><p>…</p>, no <article>): trafilatura keeps its
    paragraphs and here drops every heading; they are put back before the blocks they head."""
    from markdown_it import MarkdownIt

    note = (Path(__file__).parent.parent / "bench" / "questions" / "notes" / "garden-annual-report.md").read_text()
    body = MarkdownIt("commonmark").render(note.split("---\n", 2)[2])
    (tmp_path / "garden.html").write_text(f"<!doctype html><html><head><title>Garden</title></head><body>{body}</body></html>")
    doc = load_document(tmp_path / "garden.html", tmp_path)
    top = "Elm Street Community Garden: annual report 2023"
    assert [p for _, p in doc.sections][:4] == ["", top, f"{top} › Overview", f"{top} › Water"]
    assert section_at(doc.sections, doc.text.index("rainwater tanks")) == f"{top} › Water"
    assert section_at(doc.sections, doc.text.index("raised beds")) == f"{top} › Access"


def test_a_word_list_is_items_and_a_pdf_list_without_bullets_too(tmp_path: Path) -> None:
    """Word draws a list's bullets and a PDF's text has none: "10 g salt" after "Dough" was read
    as a title above the next line and never quoted. A Word item gets "- " for its bullet; three
    short unpunctuated lines in a row are a list's items past the first (its heading)."""
    from qa.answer.structure import statements

    recipe = [("Heading 1", "Sourdough"), ("Heading 2", "Dough"), ("List Bullet", "500 g bread flour"),
              ("List Bullet", "10 g salt"), ("", "Mix flour and water first and leave them for an hour.")]  # fmt: skip
    (tmp_path / "bread.docx").write_bytes(docx_file(recipe))
    doc = load_document(tmp_path / "bread.docx", tmp_path)
    assert "\n- 500 g bread flour\n- 10 g salt\nMix flour" in doc.text
    page = "Dough\n500 g bread flour\n350 g water\n10 g salt\nMix flour and water first and leave them for an hour."
    assert [page[a:b] for a, b in statements(page, 0, len(page))] == [
        "500 g bread flour", "350 g water", "10 g salt", "Mix flour and water first and leave them for an hour.",
    ]  # fmt: skip
    two = "Aim\nScope\nWe compared three sensors against the probe."  # fewer than three short lines: headings
    assert [two[a:b] for a, b in statements(two, 0, len(two))] == ["We compared three sensors against the probe."]
