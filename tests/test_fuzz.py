"""Hypothesis against the loaders and the chunker: any bytes, any Unicode, any line endings.

The only error a loader may raise is DocumentError; every chunk satisfies
doc.text[c.start:c.end] == c.text, cites the right lines and fits the model's window.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from embeddings.encoder import token_counter
from qa.errors import DocumentError
from qa.ingest.chunking import CountTokens, chunk_document
from qa.ingest.loaders import load_document
from qa.types import Document

from .conftest import check_chunks

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = [".txt", ".md", ".html", ".htm"]
ENDINGS = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\u2028", "\x85", "\f", "\v"]


@pytest.fixture(scope="module")
def count_tokens() -> CountTokens:
    return token_counter(None)  # the real MiniLM tokenizer, without loading the model


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def load_or_refuse(folder: Path, suffix: str, data: bytes) -> Document | None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        return load_document(path, folder)
    except DocumentError as exc:
        assert str(exc).startswith(f"fuzz{suffix}: ") and "—" in str(exc)
        return None


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
@example(data=b"http://example.com/page", suffix=".html")  # bs4 warned "looks like a URL", an error under -W error
@example(data=b"index.html", suffix=".htm")
@example(data=b'<?xml version="1.0"?><note>Buy milk.</note>', suffix=".html")
@example(data=b"\xff\xfeA\x00B", suffix=".txt")  # UTF-16 cut mid-character raised UnicodeDecodeError
@example(data=b"\xff\xfe\x00\xd8A\x00", suffix=".md")  # a lone surrogate, the same
def test_random_bytes_load_or_give_document_error(folder: Path, count_tokens: CountTokens, data: bytes, suffix: str) -> None:
    doc = load_or_refuse(folder, suffix, data)
    if doc is not None:
        check_chunks(doc, count_tokens)


@FUZZ
@given(
    lines=st.lists(st.text(st.characters(blacklist_categories=["Cs"]), max_size=200), max_size=30),
    endings=st.lists(st.sampled_from(ENDINGS), min_size=1, max_size=5),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le"]),
    suffix=st.sampled_from([".txt", ".md"]),
)
def test_random_unicode_with_random_line_endings(
    folder: Path, count_tokens: CountTokens, lines: list[str], endings: list[str], encoding: str, suffix: str
) -> None:
    text = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))
    doc = load_or_refuse(folder, suffix, text.encode(encoding))
    if doc is None:
        return
    if encoding in ("utf-8", "utf-8-sig", "utf-16") and "\x00" not in text:
        assert doc.text == text  # plain text is kept byte-exact: offsets in citations are offsets in the file
    check_chunks(doc, count_tokens)


WORDS = st.sampled_from(["Biden", "Putin", "Dr.", "U.S.", "said", "the", "call", "…", "\"Yes.\"", "(Kyiv)", "e.g.", "3.5",
                         "東京", "Москва", "؟", "naïve", "🙂", "a" * 300, "x" * 40, "—"])  # fmt: skip
SEPARATORS = st.sampled_from([" ", " ", " ", ". ", "! ", "? ", "\n", "\r\n", "\n\n", "\t", "  ", "。", ""])


@FUZZ
@given(parts=st.lists(st.tuples(WORDS, SEPARATORS), max_size=400), header=st.booleans())
def test_chunker_on_news_like_text(count_tokens: CountTokens, parts: list[tuple[str, str]], header: bool) -> None:
    text = ("date 2021-12-30 \n" if header else "") + "".join(w + s for w, s in parts)
    if text.strip():
        check_chunks(Document("news.txt", text), count_tokens)


@FUZZ
@given(pages=st.lists(st.text(max_size=300), min_size=1, max_size=5))
def test_chunker_keeps_pdf_pages_apart(count_tokens: CountTokens, pages: list[str]) -> None:
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    doc = Document("doc.pdf", "\n\n".join(pages), pages=tuple(starts))
    if doc.text.strip():
        check_chunks(doc, count_tokens)  # lines counted from the top of each page
        for c in chunk_document(doc, count_tokens):
            page = c.page or 1
            end = starts[page] if page < len(starts) else len(doc.text)
            assert starts[page - 1] <= c.start < c.end <= end


def test_one_long_word_in_any_script_fits_the_window(count_tokens: CountTokens) -> None:
    """A paragraph without spaces (Chinese, Japanese, a pasted URL) is cut, not left whole."""
    for text in ("北京" * 2000 + "。", "https://example.com/" + "a1b2c3" * 800, "Z" * 5000):
        check_chunks(Document("long.txt", text), count_tokens)


MD_PIECES = st.sampled_from([
    "---\ntitle: Notes\ndate: 2023-05-04\ntags: [a, b]\n---\n", "---\nnot: [valid yaml\n---\n", "# Heading\n", "## Sub heading\n",
    "Title\n=====\n", "- a list item without a stop\n", "1. a numbered item\n", "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "```\ncode # not a heading\n```\n", "    indented code\n", "> a quote. Another sentence.\n", "Date: 2023-06-01\n",
    "Plain words of a paragraph", " continue here. ", "\n", "\n\n", "\r\n", "\r", "x" * 300, "東京は晴れ。",
])  # fmt: skip


@FUZZ
@given(pieces=st.lists(MD_PIECES, max_size=40), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_markdown_keeps_offsets_lines_and_front_matter(
    folder: Path, count_tokens: CountTokens, pieces: list[str], encoding: str
) -> None:
    text = "".join(pieces)
    if encoding == "cp1252":
        text = text.replace("東京は晴れ。", "Zürich, café.")
    doc = load_or_refuse(folder, ".md", text.encode(encoding))
    if doc is None:
        return
    assert doc.text == text
    check_chunks(doc, count_tokens)  # lines are the file's; nothing after the front matter lost
    assert all(c.start >= doc.body_start for c in chunk_document(doc, count_tokens))
    assert all(0 < b < len(doc.text) for b in doc.breaks) and list(doc.breaks) == sorted(set(doc.breaks))


@FUZZ
@given(data=st.binary(max_size=2000))
@example(data=b"PK\x03\x04" + b"\x00" * 40)  # a zip header and nothing else
def test_random_bytes_as_word_or_pdf_give_document_error(folder: Path, data: bytes) -> None:
    for suffix in (".docx", ".pdf"):
        load_or_refuse(folder, suffix, data)
