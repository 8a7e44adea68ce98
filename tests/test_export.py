"""Evidence export: real answers and claim checks over the seeds as Markdown, CSV and JSON, read back
and checked against the files themselves (lines, characters, sha256), and made safe for spreadsheets."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answer.check import check
from qa.cli import main
from qa.errors import ConfigError
from qa.export import BOM, COLUMNS, MEDIA_TYPES, export, md_escape, spreadsheet_safe
from qa.library import Library
from qa.text import line_breaks, line_of
from tests.conftest import BIDEN, SEEDS

QUESTIONS = [
    "What did Biden warn Putin of if Russia invaded Ukraine?",
    "What did Peskov say about negotiations?",
    "What is the boiling point of mercury in Kelvin?",  # not answered: the closest passages are exported
]
CLAIM = 'Biden spoke of “nothing about you without you” on the call'


def holds(folder: Path, name: str, line_start: int, line_end: int, quote: str) -> bool:
    """True when `quote` stands in the file on exactly lines line_start..line_end (counted as qa.text counts them)."""
    text = (folder / name).read_text(encoding="utf-8")
    breaks = line_breaks(text)
    first = 0 if line_start == 1 else breaks[line_start - 2] + 1
    last = breaks[line_end - 1] if line_end <= len(breaks) else len(text)
    at = text.find(quote, first, last)
    return at >= 0 and line_of(breaks, at) == line_start and line_of(breaks, at + len(quote) - 1) == line_end


def read_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def assert_rows_hold(rows: list[dict[str, str]], folder: Path, generation: str) -> None:
    """Every row's lines and characters hold its quote in the file; its sha256 is the file's; one generation."""
    for row in rows:
        path = folder / row["file"]
        assert holds(folder, row["file"], int(row["line_start"]), int(row["line_end"]), row["quote"]), row
        assert path.read_text(encoding="utf-8")[int(row["start"]) : int(row["end"])] == row["quote"]
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["generation"] == generation


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_answer_as_csv_cites_lines_that_hold_each_quote(seed_library: Library, question: str) -> None:
    answer = seed_library.ask(question)
    text, media_type, name = export(answer, "csv")
    rows = read_csv(text)
    assert media_type == MEDIA_TYPES["csv"] and name.startswith("qa-answer-") and name.endswith(".csv")
    assert_rows_hold(rows, SEEDS, seed_library.view().generation)
    assert all(r["date_source"] == "header" and r["ocr"] == "" for r in rows)  # the seeds' " date ... " header
    if answer.found:
        assert [r["quote"] for r in rows] == [q.text for q in answer.quotes]
        assert [int(r["n"]) for r in rows] == [q.marker for q in answer.quotes] and {r["kind"] for r in rows} == {"quote"}
    else:
        assert len(rows) == len(answer.hits) and {r["kind"] for r in rows} == {"closest"}


def test_a_check_as_csv_lists_occurrences_then_related_passages(seed_library: Library) -> None:
    result = check(seed_library, CLAIM)
    rows = read_csv(export(result, "csv")[0])
    assert_rows_hold(rows, SEEDS, seed_library.view().generation)
    kinds = [r["kind"] for r in rows]
    assert kinds == ["occurrence"] * len(result.occurrences) + ["passage"] * len(result.passages)
    assert rows[0]["quote"] == "nothing about you without you" and rows[0]["file"] == BIDEN
    assert [int(r["n"]) for r in rows] == list(range(1, len(rows) + 1))


def test_json_export_is_the_results_json_with_evidence_sha256_and_generation(seed_library: Library) -> None:
    answer = seed_library.ask(QUESTIONS[0])
    data = json.loads(export(answer, "json")[0])
    generation = seed_library.view().generation
    assert {k: v for k, v in data.items() if k in answer.to_json()} == json.loads(json.dumps(answer.to_json()))
    assert data["kind"] == "answer" and data["generation"] == generation
    assert all(h["sha256"] and h["generation"] == generation for h in data["hits"])
    assert_rows_hold([{k: str(v) for k, v in e.items()} for e in data["evidence"]], SEEDS, generation)
    checked = json.loads(export(check(seed_library, CLAIM), "json")[0])
    assert checked["kind"] == "check" and checked["occurrences"][0]["sha256"] == checked["evidence"][0]["sha256"]
    assert all(o["generation"] == generation for o in checked["occurrences"])


def test_markdown_export_quotes_with_a_citation_list(seed_library: Library) -> None:
    answer = seed_library.ask(QUESTIONS[0])
    text, media_type, name = export(answer, "md")
    assert media_type.startswith("text/markdown") and name.endswith(".md")
    assert text.startswith(f"# {md_escape(answer.question)}\n") and "## Citations" in text
    quotes, citations = text.split("## Citations")
    for q in answer.quotes:
        assert f"> {md_escape(q.text)} [{q.marker}]" in quotes
        hit = answer.hits[q.marker - 1]
        assert f"[{q.marker}] **{md_escape(hit.source)}**" in citations and f"sha256 `{hit.sha256}`" in citations
    assert f"Index generation {seed_library.view().generation};" in text
    checked = export(check(seed_library, CLAIM), "md")[0]
    assert checked.startswith("# Claim check: ") and "## Where it occurs (oldest first)" in checked
    assert "> nothing about you without you [1]" in checked and "line 11, characters 1548–1577" in checked


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("a = b", "a = b"), ("2021-12-31", "2021-12-31"), (3, "3"), (None, ""), ("", ""),
    ],
)  # fmt: skip
def test_spreadsheet_safe_quotes_what_would_run_as_a_formula(cell: object, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


FORMULAS = [
    '=HYPERLINK("http://example.invalid/x","Open the harbour budget report")',
    "+SUM(A1:A9) is how the treasurer added up the harbour budget.",
    "-5 degrees was the coldest harbour budget meeting on record.",
    "@harbourmaster signed the harbour budget report in January.",
]


def test_csv_of_documents_that_start_with_formulas_is_safe_to_open(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, line in enumerate(FORMULAS):
        (folder / f"f{i}.txt").write_text(line + "\n")
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    try:
        rows = read_csv(export(check(lib, "Who signed the harbour budget?", k=len(FORMULAS)), "csv")[0])
    finally:
        lib.close()
    rows = [r for r in rows if r["kind"] == "passage"]  # the best sentence of each file's one passage
    assert sorted(r["quote"] for r in rows) == sorted("'" + line for line in FORMULAS)
    assert all(r["title"].startswith("'") for r in rows)
    # Without its apostrophe, each cell is the file's text, on the lines cited.
    assert all(holds(folder, r["file"], int(r["line_start"]), int(r["line_end"]), r["quote"][1:]) for r in rows)


def test_markdown_shows_document_markup_as_text() -> None:
    assert md_escape("<script>alert(1)</script> *bold* [link](x)") == (
        "\\<script\\>alert(1)\\</script\\> \\*bold\\* \\[link\\](x)"
    )
    assert md_escape("# not a heading\n- not a list\n1. not a number") == "\\# not a heading\n\\- not a list\n\\1. not a number"


def test_an_unknown_format_names_the_ones_there_are(seed_library: Library) -> None:
    with pytest.raises(ConfigError, match="'xlsx' is not one of md, csv, json"):
        export(seed_library.ask(QUESTIONS[0]), "xlsx")


# -- the command line --------------------------------------------------------------------------

QA = [sys.executable, "-m", "qa.cli"]


def qa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QA, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_qa_ask_prints_csv_evidence(seed_library: Library) -> None:
    out = qa("ask", QUESTIONS[0], "--index", str(seed_library.store.root), "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert_rows_hold(read_csv(out.stdout), SEEDS, seed_library.view().generation)


def test_json_is_format_json_and_check_prints_markdown(seed_library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(seed_library.store.root)
    printed = []
    for args in (["ask", QUESTIONS[0], "--json"], ["ask", QUESTIONS[0], "--format", "json"], ["check", CLAIM, "--format", "md"]):
        assert main([*args, "--index", index]) == 0
        printed.append(capsys.readouterr().out)
    first, second = json.loads(printed[0]), json.loads(printed[1])
    assert first.pop("exported_at") and second.pop("exported_at") and first == second
    assert {"question", "answer", "hits", "evidence", "generation"} <= set(first)
    assert printed[2].startswith("# Claim check: ") and "## Citations" in printed[2]


@pytest.mark.e2e
def test_json_and_format_together_is_a_one_line_error(seed_library: Library) -> None:
    out = qa("ask", "x", "--index", str(seed_library.store.root), "--json", "--format", "md")
    assert out.returncode == 2 and "not allowed with argument" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_evidence_names_the_section_of_each_quote(tmp_path: Path) -> None:
    """A fact-checker cites 'notes.md, under Costs': the CSV has the section path, the Markdown says it."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "library.md").write_text(
        "# Riverside library extension\n\n## Design\n\nThe architect is Lena Okafor, chosen in a public vote.\n\n"
        "## Costs\n\nThe budget is 3 million euros, and a local trust pays a third of it.\n"
    )  # fmt: skip
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    answer = lib.ask("How much is the budget of the library extension?")
    assert answer.found
    rows = read_csv(export(answer, "csv")[0])
    assert rows[0]["section"] == "Riverside library extension › Costs" and "3 million euros" in rows[0]["quote"]
    assert "under “Riverside library extension › Costs”" in export(answer, "md")[0]
    lib.close()
