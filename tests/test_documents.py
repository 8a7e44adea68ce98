"""Loaders: every kind of file is indexed with true offsets, or skipped by name with its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qa import Library
from qa.errors import DocumentError
from qa.ingest.loaders import load_document
from qa.ingest.scan import scan

from .conftest import BIDEN, SEEDS, make_pdf


def test_seed_header_date_and_exact_text() -> None:
    doc = load_document(SEEDS / BIDEN, SEEDS)
    assert doc.date == dt.date(2021, 12, 31)
    assert doc.text == (SEEDS / BIDEN).read_bytes().decode("utf-8")
    assert doc.path == BIDEN
    assert doc.title.startswith("US President Joe Biden")


def test_latin1_text_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "cafe.txt").write_bytes("Le café de la gare a fermé ses portes à Noël après trente années.".encode("latin-1"))
    doc = load_document(tmp_path / "cafe.txt", tmp_path)
    assert "café" in doc.text and "Noël" in doc.text


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "u16.txt").write_bytes("Zürich hosted the summit.".encode("utf-16"))
    assert load_document(tmp_path / "u16.txt", tmp_path).text == "Zürich hosted the summit."


def test_html_gives_visible_text_only(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Harbour news</title><style>p{color:red}</style>"
        "<script>var secret = 'do not index';</script></head>"
        "<body><h1>Ferry delayed</h1><p>The ferry to Skye left two hours late.</p></body></html>"
    )
    (tmp_path / "news.html").write_text(page)
    doc = load_document(tmp_path / "news.html", tmp_path)
    assert doc.title == "Ferry delayed"  # the article's headline, not the page's <title>
    assert "The ferry to Skye left two hours late." in doc.text
    assert "secret" not in doc.text and "color" not in doc.text


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    (tmp_path / "two.pdf").write_bytes(make_pdf(["Alpha page talks about glaciers.", "Beta page talks about volcanoes."]))
    doc = load_document(tmp_path / "two.pdf", tmp_path)
    assert "glaciers" in doc.text and "volcanoes" in doc.text
    assert doc.page_at(doc.text.index("glaciers")) == 1
    assert doc.page_at(doc.text.index("volcanoes")) == 2


def test_pdf_hit_carries_its_page(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "two.pdf").write_bytes(make_pdf(["Alpha page talks about glaciers.", "Beta page talks about volcanoes."]))
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    hit = lib.retrieve("Which page talks about volcanoes?", k=1)[0]
    assert hit.page == 2 and "volcanoes" in hit.text


BAD_FILES = [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n \t\n", "empty file"),
    ("binary.txt", bytes(range(256)) * 8, "binary file"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ("scanned.pdf", make_pdf([""]), "no text layer"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_raises_document_error_naming_it(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError, match=reason) as info:
        load_document(tmp_path / name, tmp_path)
    assert str(info.value).startswith(f"{name}: ")
    assert "—" in str(info.value)  # every message says what to do about it


def test_sync_skips_bad_files_and_keeps_good_ones(seeds_copy: Path, tmp_path: Path) -> None:
    for name, data, _ in BAD_FILES:
        (seeds_copy / name).write_bytes(data)
    (seeds_copy / "latin.txt").write_bytes("Der Bürgermeister eröffnete die Brücke über die Spree.".encode("latin-1"))
    lib = Library.open(tmp_path / "index")
    report = lib.sync(seeds_copy)
    assert report.added == 3  # two seeds and the Latin-1 file
    skipped = {s.path: s.reason for s in report.skipped}
    for name, _, reason in BAD_FILES:
        assert reason in skipped[name]
    assert lib.retrieve("Who opened the bridge over the Spree?", k=1)[0].source == "latin.txt"


def test_file_broken_after_indexing_keeps_last_good_version(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    (seeds_copy / BIDEN).write_bytes(b"\x00\x01\x02" * 1000)
    report = lib.sync(seeds_copy)
    assert [s.path for s in report.skipped] == [BIDEN]
    assert lib.retrieve("What did Biden warn Putin of?", k=1)[0].source == BIDEN


def test_scan_ignores_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("hidden")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("# A")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert [p.relative_to(tmp_path).as_posix() for p in scan(tmp_path)] == ["sub/a.md"]
