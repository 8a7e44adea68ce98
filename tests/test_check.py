"""Checking quotes and claims: matching on hand-made Documents, then the seeds with the real model."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa import Library, cli
from qa.answer.check import (
    CLOSE,
    CLOSE_RATIO,
    MAX_OCCURRENCES,
    NO_CONTRADICTION,
    NOT_FOUND,
    RELATED,
    RELATED_COSINE,
    SHORT_NOTE,
    VERBATIM,
    _note,
    _occurrences,
    check,
    label_for,
)
from qa.answer.quotes import extract_quotes, find_quote, fold, fold_with_map
from qa.types import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "000_193af056c20aff61.txt"
PHRASE = "nothing about you without you"


def seed_docs() -> list[Document]:
    return [Document(path=p.name, text=p.read_text()) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ('He said "nothing about you without you" twice', ["nothing about you without you"]),
        ("He said “nothing about you” and “no deal”", ["nothing about you", "no deal"]),
        ("„Gute Nacht“ and «bonne nuit»", ["Gute Nacht", "bonne nuit"]),
        ("Biden’s call was serious", ["Biden’s call was serious"]),
        ('empty quotes "" are ignored', ['empty quotes "" are ignored']),
    ],
)
def test_extract_quotes(text: str, parts: list[str]) -> None:
    assert extract_quotes(text) == parts


def test_fold_ignores_case_punctuation_quotes_dashes_accents() -> None:
    assert fold("  “Serious”—COSTS, and\tcafé’s  ") == fold('"serious" - costs and cafe\'s')


@given(st.text())
def test_fold_with_map_agrees_with_fold(text: str) -> None:
    folded, src = fold_with_map(text)
    assert folded == fold(text)
    assert len(src) == len(folded)
    assert src == sorted(src)
    assert all(0 <= i < len(text) for i in src)


# Characters that fold to several words (½ -> "1 2") are left out: a match inside one spans the whole character.
@given(st.text(alphabet=st.sampled_from("aébß İ—“”’.,\n\u0301ﬁx"), max_size=60), st.integers(0, 8), st.integers(1, 4))
def test_every_match_folds_back_to_the_quote(text: str, first: int, n: int) -> None:
    words = fold(text).split()[first : first + n]
    if not words:
        return
    quote = " ".join(words)
    matches = find_quote(quote, [Document(path="a.txt", text=text)], cutoff=101)  # exact only
    assert matches
    assert all(fold(m.text) == quote and text[m.start : m.end] == m.text for m in matches)


def test_verbatim_quote_in_seed_has_exact_span() -> None:
    docs = seed_docs()
    matches = find_quote(PHRASE, docs)
    assert len(matches) == 1
    m = matches[0]
    text = (SEEDS / SEED).read_text()
    assert m.doc.path == SEED
    assert m.ratio == 100.0
    assert (m.start, m.end) == (text.index(PHRASE), text.index(PHRASE) + len(PHRASE))
    assert text[m.start : m.end] == m.text == PHRASE
    assert m.differences == ()


def test_case_and_punctuation_changes_are_still_verbatim() -> None:
    [m] = find_quote("NOTHING, about you — without you!", seed_docs())
    assert (m.ratio, m.text) == (100.0, PHRASE)


def test_one_word_changed_is_a_near_match_with_the_differing_words() -> None:
    [m] = find_quote("nothing about us without you", seed_docs())
    assert m.text == PHRASE
    assert CLOSE_RATIO <= m.ratio < 100
    assert [(d.quote, d.document) for d in m.differences] == [("us", "you")]


def test_long_sentence_with_a_word_changed_keeps_original_spelling() -> None:
    quote = "Biden warned the Russian leader of serious costs and penalties if there is an invasion"
    [m] = find_quote(quote, seed_docs())
    assert m.text.startswith("Biden warned") and m.text.endswith("invasion")
    assert [(d.quote, d.document) for d in m.differences] == [("penalties", "consequences")]


def test_unrelated_sentence_is_not_matched() -> None:
    assert find_quote("The recipe calls for two cups of flour and a pinch of salt", seed_docs()) == []


def test_every_occurrence_in_one_document_is_reported() -> None:
    text = "One: the quick brown fox. Two: the quick brown fix. Three: the quick brown fox."
    matches = find_quote("the quick brown fox", [Document(path="a.txt", text=text)])
    assert [(m.text, m.ratio == 100) for m in matches] == [
        ("the quick brown fox", True),
        ("the quick brown fix", False),
        ("the quick brown fox", True),
    ]
    assert all(text[m.start : m.end] == m.text for m in matches)


def test_earliest_source_comes_first() -> None:
    def doc(name: str, date: dt.date | None) -> Document:
        return Document(path=name, date=date, text=f"Intro.\nThey said “{PHRASE}”, again.\n")

    docs = [
        doc("b.txt", dt.date(2022, 1, 5)),
        doc("undated.txt", None),
        doc("c.txt", dt.date(2021, 12, 31)),
        doc("a.txt", dt.date(2022, 3, 1)),
    ]
    occ = _occurrences(PHRASE, docs)
    assert [o.source for o in occ] == ["c.txt", "b.txt", "a.txt", "undated.txt"]
    assert [o.date for o in occ] == [dt.date(2021, 12, 31), dt.date(2022, 1, 5), dt.date(2022, 3, 1), None]
    assert all((o.line_start, o.line_end) == (2, 2) for o in occ)


@pytest.mark.parametrize(
    ("ratios", "support", "label"),
    [
        ([100.0], 0.9, VERBATIM),
        ([100.0, 100.0], None, VERBATIM),
        ([100.0, CLOSE_RATIO], 0.9, CLOSE),
        ([100.0, None], RELATED_COSINE, RELATED),
        ([None], RELATED_COSINE - 0.01, NOT_FOUND),
        ([None], None, NOT_FOUND),
    ],
)
def test_label_for(ratios: list[float | None], support: float | None, label: str) -> None:
    assert label_for(ratios, support) == label


# --- the real model, FAISS and SQLite: the seeds index from conftest, and small tmp corpora ---


def test_check_finds_the_seed_quote_verbatim(seed_library: Library) -> None:
    c = check(seed_library, f"Biden acted on the principle of “{PHRASE}”.")
    assert c.label == VERBATIM
    assert c.quotes == (PHRASE,)
    [o] = c.occurrences
    doc = seed_library.document(SEED)
    assert doc is not None
    assert (o.source, o.date, o.ratio) == (SEED, dt.date(2021, 12, 31), 100.0)
    assert doc.text[o.start : o.end] == o.text == PHRASE
    assert o.line_start == o.line_end == doc.text[: o.start].count("\n") + 1
    assert "contradict" in c.note


def test_check_one_word_changed_is_closely_matched(seed_library: Library) -> None:
    c = check(seed_library, '"nothing about us without you"')
    assert c.label == CLOSE
    [o] = c.occurrences
    assert o.source == SEED and o.text == PHRASE and o.ratio < 100
    assert [(d.quote, d.document) for d in o.differences] == [("us", "you")]


def test_check_unrelated_sentence(seed_library: Library) -> None:
    c = check(seed_library, "The recipe calls for two cups of flour and a pinch of salt.")
    assert c.label in (NOT_FOUND, RELATED)
    assert c.occurrences == ()
    assert c.label == NOT_FOUND or max(c.support) >= RELATED_COSINE


def test_check_claim_highlights_best_supporting_sentence(seed_library: Library) -> None:
    c = check(seed_library, "Putin asked for the call with Biden", k=3)
    assert c.passages and len(c.support) == len(c.passages)
    best = c.passages[c.best or 0]
    assert "requested by Putin" in best.sentence
    assert best.text[best.sentence_start : best.sentence_end] == best.sentence


def test_check_lists_the_earliest_source_first(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    filler = ["Markets were calm on Monday.", "The weather turned cold.", "Talks resumed in Geneva."]
    for name, date, extra in zip(["a.txt", "b.txt", "c.txt"], ["2022-03-01", "2021-12-30", "2022-01-15"], filler, strict=True):
        (folder / name).write_text(f" date {date} {extra}\nThe minister said “{PHRASE}” at the summit.\n")
    (folder / "d.txt").write_text(" date 2020-01-01 Nothing to see here about the summit.\n")
    lib = Library.open(tmp_path / "index")
    try:
        lib.sync(folder)
        c = check(lib, PHRASE)
    finally:
        lib.close()
    assert c.label == VERBATIM
    assert [(o.source, o.date) for o in c.occurrences] == [
        ("b.txt", dt.date(2021, 12, 30)),
        ("c.txt", dt.date(2022, 1, 15)),
        ("a.txt", dt.date(2022, 3, 1)),
    ]


def test_cli_check_json(seed_library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", f"“{PHRASE}”", "--index", str(seed_library.store.root), "--k", "2", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    # The check's own JSON, plus the evidence export's rows (--json is --format json: qa/export.py).
    assert set(data) == {"text", "label", "note", "quotes", "occurrences", "passages", "best_passage"} | {
        "kind", "generation", "exported_at", "evidence"
    }
    assert data["label"] == VERBATIM
    [occ] = data["occurrences"]
    assert {"source", "date", "start", "end", "line_start", "line_end", "ratio", "verbatim", "differences", "text"} <= set(occ)
    assert len(data["passages"]) == 2
    assert {"source", "sentence", "sentence_start", "sentence_end", "support"} <= set(data["passages"][0])


def test_cli_check_text_output(seed_library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", '"nothing about us without you"', "--index", str(seed_library.store.root), "--k", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{CLOSE}: “nothing about us without you”")
    assert "quote “us” / document “you”" in out and SEED in out


def test_cli_check_empty_text_is_an_error(seed_library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "  ", "--index", str(seed_library.store.root)]) == 2
    assert "Nothing to check" in capsys.readouterr().err


def test_note_warns_on_short_near_matches_and_counts_hidden_occurrences() -> None:
    note = _note(CLOSE, ["nothing about us"], {"nothing about us": MAX_OCCURRENCES + 7})
    assert SHORT_NOTE in note
    assert f"Showing the {MAX_OCCURRENCES} oldest of {MAX_OCCURRENCES + 7} occurrences" in note
    assert note.endswith(NO_CONTRADICTION)
    assert SHORT_NOTE not in _note(VERBATIM, ["nothing about us"], {"nothing about us": 1})


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_occurrence_lines_count_every_kind_of_line_break_as_chunking_does(tmp_path: Path, newline: str) -> None:
    """A file with lone \r breaks (old Mac) once made `qa check` cite line 1 where chunking said line 3."""
    folder = tmp_path / "docs"
    folder.mkdir()
    lines = ["The council met on Monday.", "Roads were closed after the storm.", f"The mayor said “{PHRASE}” to reporters."]
    (folder / "mac.txt").write_bytes(newline.join(lines).encode())
    lib = Library.open(tmp_path / "index")
    try:
        lib.sync(folder)
        c = check(lib, PHRASE)
        hit = lib.retrieve("What did the mayor say to reporters?", k=1)[0]
    finally:
        lib.close()
    (o,) = c.occurrences
    assert (o.line_start, o.line_end) == (3, 3)
    assert hit.source == "mac.txt" and hit.line_end == 3  # the chunk holding it ends on the same line
