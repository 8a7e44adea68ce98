"""Chunks: exact spans for any text, whole sentences, within the model's window."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.encoder import token_counter
from qa.ingest.chunking import chunk_document
from qa.ingest.loaders import body_start, load_document
from qa.text import split_sentences
from qa.types import Document

from .conftest import BIDEN, SEEDS, check_chunks

COUNT = token_counter()

sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12), min_size=1, max_size=40),
    st.sampled_from([".", "!", "?", "…", ".”", "", "\n", "\r\n", "\n\n"]),
)
texts = st.lists(sentence, max_size=30).map(lambda parts: " ".join(parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_spans_are_exact_for_any_text(text: str) -> None:
    check_chunks(Document(path="x.txt", text=text), COUNT)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=3000))
def test_spans_are_exact_for_raw_unicode(text: str) -> None:
    check_chunks(Document(path="x.txt", text=text), COUNT)


def test_one_giant_sentence_is_split_at_words() -> None:
    text = " ".join(f"word{i}" for i in range(2000))
    check_chunks(Document(path="x.txt", text=text), COUNT)


def test_seed_chunks_are_whole_sentences_with_one_overlap() -> None:
    doc = load_document(SEEDS / BIDEN, SEEDS)
    chunks = chunk_document(doc, COUNT, body_start(doc))
    assert chunks[0].start == body_start(doc)
    sentences = split_sentences(doc.text, body_start(doc))
    starts, ends = {a for a, _ in sentences}, {b for _, b in sentences}
    for before, after in itertools.pairwise(chunks):
        assert after.start in starts and before.end in ends
        shared = doc.text[after.start : before.end]
        assert shared and len(split_sentences(shared)) == 1  # exactly one sentence of overlap


def test_sentence_split_keeps_abbreviations() -> None:
    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. They talked. “Fine,” he said!"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["Mr. Smith met Dr. Jones in the U.S. on Monday.", "They talked.", "“Fine,” he said!"]


def test_old_mac_and_windows_line_endings_count_as_lines() -> None:
    text = "First line here.\rSecond line here.\r\nThird line here.\nFourth line here."
    doc = Document(path="x.txt", text=text)
    chunks = chunk_document(doc, COUNT, target=5, overlap=0)
    assert [(c.text, c.line_start, c.line_end) for c in chunks] == [
        ("First line here.", 1, 1),
        ("Second line here.", 2, 2),
        ("Third line here.", 3, 3),
        ("Fourth line here.", 4, 4),
    ]
