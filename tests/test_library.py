"""The core promise on the seeds: the right passage first, cited to the line; incremental sync."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import qa
from embeddings import Encoder
from qa import Library
from qa.errors import BadQuestion, DocumentNotFound, IndexIncompatible, IndexLocked, IndexMissing
from qa.index import store
from qa.index.lexicon import tokens
from qa.index.slots import all_slots
from qa.ingest import chunking

from .conftest import BIDEN, PESKOV, SEEDS, TIE_BF16, assert_same_ranking, vectors_match_catalog

QUESTIONS = [
    "What did Biden warn Putin of if Russia invaded Ukraine?",
    "What did Peskov say about negotiations?",
    "Who requested the call?",
    "When will the talks in Geneva take place?",
]


def line_span(folder: Path, source: str, first: int, last: int) -> str:
    lines = (folder / source).read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[first - 1 : last])


def test_biden_question_cites_the_warning(seed_library: Library) -> None:
    hits = seed_library.retrieve(QUESTIONS[0], k=3)
    top = hits[0]
    assert top.source == BIDEN
    assert "serious costs and consequences" in line_span(SEEDS, top.source, top.line_start, top.line_end)
    assert "serious costs and consequences" in top.text
    assert top.date == dt.date(2021, 12, 31)


def test_peskov_question_finds_the_kremlin_article(seed_library: Library) -> None:
    assert seed_library.retrieve(QUESTIONS[1], k=3)[0].source == PESKOV


def test_hit_citation_matches_the_file(seed_library: Library) -> None:
    for hit in seed_library.retrieve(QUESTIONS[2], k=5):
        text = (SEEDS / hit.source).read_text(encoding="utf-8")
        assert text[hit.start : hit.end] == hit.text
        assert text.count("\n", 0, hit.start) + 1 == hit.line_start
        assert text.count("\n", 0, hit.end) + 1 == hit.line_end
        assert 0 <= hit.sentence_start < hit.sentence_end <= len(hit.text)
        assert hit.sentence in hit.text


def test_ranks_are_dense_and_scores_fall(seed_library: Library) -> None:
    hits = seed_library.retrieve(QUESTIONS[3], k=4)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_answer_quotes_hits_with_markers(seed_library: Library) -> None:
    answer = seed_library.ask(QUESTIONS[0], k=3)
    assert answer.found
    assert "[1]" in answer.text
    for quote in answer.quotes:
        hit = answer.hits[quote.marker - 1]
        assert quote.text in hit.text
        assert f"{quote.text} [{quote.marker}]" in answer.text


def test_unanswerable_question_says_so(seed_library: Library) -> None:
    answer = seed_library.ask("What is the boiling point of tungsten in kelvin?")
    assert not answer.found
    assert "do not answer" in answer.text
    assert answer.hits  # the closest passages are still shown


def test_date_filter_excludes_other_days(seed_library: Library) -> None:
    dates = {h.date for h in seed_library.retrieve(QUESTIONS[0], k=10, until="2021-12-30")}
    assert dates and dates <= {dt.date(2021, 12, 30)}


def test_module_retrieve_reads_qa_index(seed_library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_INDEX", str(seed_library.store.root))
    hits = qa.retrieve("Who requested the call?", k=3)
    assert len(hits) == 3
    assert hits == seed_library.retrieve("Who requested the call?", k=3)


def assert_same_results(a: Library, b: Library) -> None:
    """Same passages in the same order, scores equal within bf16 batch noise."""
    for q in QUESTIONS:
        assert_same_ranking(a.retrieve(q, k=5), b.retrieve(q, k=5), tie=TIE_BF16)


def terms_intact(catalog: Path) -> None:
    """Every stored term count matches the text it was taken from, and no row lacks one."""
    db = sqlite3.connect(catalog)
    vocabulary = dict(db.execute("SELECT id, term FROM vocabulary"))
    for table in ("chunks", "documents"):
        for text, blob in db.execute(f"SELECT text, bag FROM {table}"):
            pairs = np.frombuffer(blob, dtype=np.int32).reshape(-1, 2)
            assert {vocabulary[t]: c for t, c in pairs.tolist()} == Counter(tokens(text))
    db.close()


def grain_documents(lib: Library) -> set[int]:
    lexicon = lib.view().catalog.lexicon()
    return {d for d, _ in lexicon.documents.top(lexicon.ids_of("grain exports"), 5)}


def test_incremental_sync_equals_fresh_build(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    first = lib.sync(seeds_copy)
    assert first.added == 2 and first.chunks_encoded > 0

    again = lib.sync(seeds_copy)
    assert (again.chunks_encoded, again.added, again.changed, again.unchanged) == (0, 0, 0, 2)

    # Edit one file: only chunks whose text is new are encoded.
    path = seeds_copy / PESKOV
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n\nThe Kremlin added a brand new closing remark about grain exports.\n", encoding="utf-8")
    edited = lib.sync(seeds_copy)
    assert edited.changed == 1 and edited.added == 0
    assert 1 <= edited.chunks_encoded <= 2
    assert edited.chunks_reused > 0
    fresh = Library.open(tmp_path / "fresh")
    fresh.sync(seeds_copy)
    assert_same_results(lib, fresh)
    catalog = lib.view().catalog
    assert grain_documents(lib) == {catalog.document_id(PESKOV)}
    terms_intact(catalog.path)

    # Delete it: every trace goes, and results equal a fresh build's.
    path.unlink()
    removed = lib.sync(seeds_copy)
    assert removed.removed == 1
    assert all(h.source != PESKOV for q in QUESTIONS for h in lib.retrieve(q, k=10))
    assert lib.document(PESKOV) is None
    assert grain_documents(lib) == set()
    terms_intact(lib.view().catalog.path)
    view = lib.view()
    assert vectors_match_catalog(view)
    fresh2 = Library.open(tmp_path / "fresh2")
    fresh2.sync(seeds_copy)
    assert_same_results(lib, fresh2)


def test_touched_file_is_not_reencoded(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    os.utime(seeds_copy / BIDEN, (1_000_000_000, 1_000_000_000))
    report = lib.sync(seeds_copy)
    assert report.chunks_encoded == 0 and report.changed == 0 and report.unchanged == 2


def test_same_name_in_two_folders_never_mixes(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    (folder / "a" / "report.txt").write_text("The lighthouse keeper counted forty gulls on Monday.")
    (folder / "b" / "report.txt").write_text("The bakery sold ninety croissants before noon.")
    lib = Library.open(tmp_path / "index")
    assert lib.sync(folder).added == 2
    assert lib.retrieve("How many gulls did the keeper count?", k=1)[0].source == "a/report.txt"
    assert lib.retrieve("How many croissants were sold?", k=1)[0].source == "b/report.txt"


def test_missing_index_and_empty_question(tmp_path: Path, seed_library: Library) -> None:
    with pytest.raises(IndexMissing, match="run: qa index"):
        Library.open(tmp_path / "nothing").retrieve("anything")
    for question in ("", "   ", "\x00\x07"):
        with pytest.raises(BadQuestion, match="empty"):
            seed_library.retrieve(question)


def test_index_from_another_model_is_refused(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="some-other-model"):
        Library.open(tmp_path / "index").retrieve("Who requested the call?")
    with pytest.raises(IndexIncompatible):
        Library.open(tmp_path / "index").sync(seeds_copy)


def test_an_index_from_an_older_qa_is_rebuilt_by_the_next_sync_without_encoding(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    first = lib.sync(seeds_copy)
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 1
    del manifest["chunking"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match=f"run: qa index {seeds_copy.resolve()}"):
        Library.open(tmp_path / "index").retrieve("Who requested the call?")
    again = Library.open(tmp_path / "index").sync(seeds_copy)
    assert (again.added, again.chunks_encoded, again.chunks_reused) == (2, 0, first.chunks_encoded)
    assert json.loads(manifest_path.read_text())["format_version"] == store.FORMAT_VERSION
    assert Library.open(tmp_path / "index").retrieve(QUESTIONS[1], k=1)[0].source == PESKOV


def test_changing_the_chunk_size_rechunks_the_index(seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = Library.open(tmp_path / "index")
    before = lib.sync(seeds_copy).chunks_encoded
    monkeypatch.setattr(chunking, "CHUNK_TOKENS", 48)
    lib = Library.open(tmp_path / "index")
    report = lib.sync(seeds_copy)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["chunking"]["tokens"] == 48
    assert report.added == 2 and report.chunks_encoded > 0
    assert manifest["chunks"] > before  # smaller chunks, more of them
    assert lib.sync(seeds_copy).chunks_encoded == 0  # and only once


def test_folder_can_move_to_another_index_dir(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    shutil.copytree(tmp_path / "index", tmp_path / "moved")
    assert Library.open(tmp_path / "moved").retrieve(QUESTIONS[1], k=1)[0].source == PESKOV


def test_answer_reports_the_date_range_it_used(seed_library: Library) -> None:
    asked = seed_library.ask("What did Biden warn Putin of?", since="2021-12-31")
    assert asked.since == dt.date(2021, 12, 31) and "as asked" in asked.date_note
    named = seed_library.ask("What did Peskov say on December 30?")
    assert (named.since, named.until) == (dt.date(2021, 12, 30), dt.date(2021, 12, 30))
    assert "December 30" in named.date_note
    assert seed_library.ask("What did Peskov say about negotiations?").date_note == ""


def test_prepared_queries_are_encoded_in_one_batch_and_give_the_same_hits(
    seed_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    single = {q: seed_library.retrieve(q, k=3) for q in QUESTIONS}
    vectors = {q: seed_library.encoder.encode_query(q) for q in QUESTIONS}
    seed_library.prepare_queries([*QUESTIONS, "   ", "\x00\x07"])  # blank ones are left out, not an error
    assert set(seed_library._prepared) == set(QUESTIONS)
    for q in QUESTIONS:
        assert float(seed_library._prepared[q] @ vectors[q]) > 0.9999
    calls: list[str] = []
    original = seed_library.encoder.encode_query
    monkeypatch.setattr(seed_library.encoder, "encode_query", lambda text: calls.append(text) or original(text))
    for q in QUESTIONS:
        assert [(h.source, h.chunk_id) for h in seed_library.retrieve(q, k=3)] == [(h.source, h.chunk_id) for h in single[q]]
    assert calls == []  # every vector came from the batch
    seed_library.retrieve("Where were the talks held?", k=1)
    assert calls == ["Where were the talks held?"]  # an unprepared question is encoded as usual
    seed_library.prepare_queries([])


def test_warm_loads_what_the_first_question_needs(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    catalog = lib.view().catalog
    assert catalog._lexicon is None and catalog._lookup is None  # loaded on demand
    lib.warm()
    assert catalog._lexicon is not None and catalog._lookup is not None and lib._encoder is not None
    # dateparser loads on the first dated question otherwise (~0.15 s): in a fresh process, warm loads it.
    index = str(tmp_path / "index")
    code = f"import sys; from qa.library import Library; Library.open({index!r}).warm(); print('dateparser.date' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.skipif(Encoder.resolve_precision("int8") != "int8", reason="this CPU has no native int8 and bf16")
def test_int8_precision_indexes_and_answers_the_seeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_library: Library
) -> None:
    # QA_PRECISION=int8 end to end: the sync encodes through the int8 model, questions stay bf16,
    # and the seeds' questions find the same passages first as the default index does.
    monkeypatch.setenv("QA_PRECISION", "int8")
    lib = Library.open(tmp_path / "index")
    lib.sync(SEEDS)
    assert lib.encoder.precision == "int8" and lib.encoder._int8 is not None
    assert lib.encoder is not seed_library.encoder
    assert vectors_match_catalog(lib.view())
    for question in QUESTIONS:
        assert lib.retrieve(question, k=1)[0].chunk_id == seed_library.retrieve(question, k=1)[0].chunk_id, question


def test_inventory_lists_each_document_with_its_passages(seed_library: Library) -> None:
    docs = seed_library.inventory()
    assert [d.source for d in docs] == [BIDEN, PESKOV]
    rows = seed_library.view().catalog.db.execute("SELECT d.path FROM chunks c JOIN documents d ON d.id = c.doc_id")
    by_doc = Counter(path for (path,) in rows)
    assert {d.source: d.passages for d in docs} == by_doc
    assert docs[0].date == dt.date(2021, 12, 31) and docs[0].sha256 == seed_library.document(BIDEN).sha256
    assert seed_library.info(PESKOV) == docs[1] and seed_library.info("nothing.txt") is None
    assert [d.source for d in docs if d.matches("  emphasize DIPLOMACY ")] == [PESKOV]


def stored_passages(lib: Library, source: str) -> list[tuple]:
    """(id, start, end, text, vector) of each passage of `source` as the index holds them."""
    view = lib.view()
    sql = 'SELECT c.id, c.start, c."end", c.text FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path = ? ORDER BY c.id'
    return [(*row, view.vectors.reconstruct(all_slots([row[0]])[0])) for row in view.catalog.db.execute(sql, (source,))]


def test_remove_takes_one_document_out_of_the_folder_and_the_index(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    kept = stored_passages(lib, BIDEN)
    report = lib.remove(PESKOV)
    assert report.removed == 1 and report.chunks_encoded == 0
    assert not (seeds_copy / PESKOV).exists() and sorted(p.name for p in seeds_copy.iterdir()) == [BIDEN]
    assert [d.source for d in lib.inventory()] == [BIDEN] and vectors_match_catalog(lib.view())
    after = stored_passages(lib, BIDEN)  # the other document: the same passages, ids and vectors
    assert [row[:-1] for row in after] == [row[:-1] for row in kept]
    assert all(np.array_equal(a[-1], b[-1]) for a, b in zip(after, kept, strict=True))
    assert lib.retrieve("What did Biden warn Putin of?", k=1)[0].source == BIDEN
    with pytest.raises(DocumentNotFound, match="is not in the index"):
        lib.remove(PESKOV)
    lib.close()


def test_remove_while_another_writer_holds_the_index_changes_nothing(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library.open(tmp_path / "index")
    lib.sync(seeds_copy)
    before = sorted(p.name for p in seeds_copy.iterdir())
    with lib.store.lock(), pytest.raises(IndexLocked):
        lib.remove(PESKOV)
    assert sorted(p.name for p in seeds_copy.iterdir()) == before  # the file is back where it was
    assert PESKOV in {d.source for d in lib.inventory()}
    lib.close()
