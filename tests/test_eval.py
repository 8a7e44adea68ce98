"""`qa eval`: metrics against hand-worked numbers, the TSV loader, a BEIR folder end to end."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from qa import cli
from qa.errors import DatasetError
from qa.eval.retrieval import doc_ranking, load_tsv, score
from qa.types import Citation, Hit

QRELS = {"q1": {"d1": 1}, "q2": {"d4": 1, "d5": 1}, "q3": {"d7": 1}, "q4": {"d9": 2, "d10": 1}}
RUN = {
    "q1": {"d2": 3.0, "d1": 2.0, "d3": 1.0},
    "q2": {"d4": 3.0, "d6": 2.0, "d5": 1.0},
    "q3": {"d8": 1.0},
    "q4": {"d10": 2.0, "d9": 1.0},
}


def test_metrics_match_hand_computation() -> None:
    # nDCG with linear gain, discount 1/log2(rank + 1); 1/log2(3) = 0.6309298
    # q1: relevant d1 at rank 2            -> 0.6309298 / 1                         = 0.6309298
    # q2: d4 rank 1, d5 rank 3             -> (1 + 1/log2(4)) / (1 + 0.6309298)     = 1.5 / 1.6309298 = 0.9197208
    # q3: nothing relevant retrieved       -> 0
    # q4: d10 (gain 1) rank 1, d9 (gain 2) rank 2
    #                                      -> (1 + 2 * 0.6309298) / (2 + 0.6309298) = 2.2618595 / 2.6309298 = 0.8597187
    # mean nDCG@10 = (0.6309298 + 0.9197208 + 0 + 0.8597187) / 4 = 2.4103693 / 4 = 0.6025923
    # recall@1  = (0 + 1/2 + 0 + 1/2) / 4 = 0.25      recall@10 = recall@100 = (1 + 1 + 0 + 1) / 4 = 0.75
    # MRR@10    = (1/2 + 1 + 0 + 1) / 4 = 0.625
    got = score(QRELS, RUN, k=10)
    assert got == pytest.approx(
        {
            "ndcg@10": 0.6026,
            "recall@1": 0.25,
            "recall@10": 0.75,
            "recall@100": 0.75,
            "mrr@10": 0.625,
        },
        abs=1e-4,
    )


def test_cutoff_follows_k_and_missing_queries_score_zero() -> None:
    # k=2: q2 keeps only d4 of its two -> recall@2 = (1 + 1/2 + 0 + 1) / 4 = 0.625
    # q3 absent from the run counts as an empty ranking, not as a dropped query
    run = {qid: ranking for qid, ranking in RUN.items() if qid != "q3"}
    got = score(QRELS, run, k=2)
    assert got["recall@2"] == pytest.approx(0.625)
    assert got["mrr@2"] == pytest.approx(0.625)


def test_tsv_loader(tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text(
        "query_id\tquery\tarticle_id\tkind\n"
        "t1\tBiden warns Putin\t17\ttitle\n"
        "\n"
        "t2\tFlu season in New York\t4\ttitle\textra\n"
        "t2\tFlu season in New York\t9\ttitle\n",
        encoding="utf-8",
    )
    data = load_tsv(tsv, tmp_path)
    assert data.queries == {"t1": "Biden warns Putin", "t2": "Flu season in New York"}
    assert data.qrels == {"t1": {"17": 1}, "t2": {"4": 1, "9": 1}}
    assert data.doc_id("sub/17.txt") == "17"
    tsv.write_text("qid\tquery\tdoc\nt1\tonly two columns\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"q\.tsv:2"):
        load_tsv(tsv, tmp_path)


def _hit(source: str, *dups: str) -> Hit:
    return Hit(
        rank=1, score=1.0, chunk_id=0, text="x", source=source, date=None, title="", start=0, end=1,
        line_start=1, line_end=1, page=None, sentence_start=0, sentence_end=1,
        duplicates=tuple(Citation(d, None, "", 0, 1, 1, 1) for d in dups),
    )  # fmt: skip


def test_doc_ranking_by_best_passage_and_duplicates() -> None:
    hits = [_hit("a.txt", "c.txt"), _hit("b.txt"), _hit("a.txt"), _hit("d.txt", "b.txt")]
    assert doc_ranking(hits, lambda s: Path(s).stem) == ["a", "c", "b", "d"]


DOCS = [
    (
        "volcano",
        "Mount Fuji eruption",
        "Ash clouds drifted over the mountain villages as lava flowed.",
    ),
    (
        "news/7",
        "Central bank raises interest rates",
        "The bank lifted its benchmark rate by half a point to fight inflation.",
    ),
    (".hidden", "Marathon record", "A Kenyan runner broke the world record in Berlin on Sunday."),
    (
        "chess",
        "Grandmaster wins title",
        "The chess champion defended the crown after twelve games.",
    ),
    (
        "flu",
        "Flu season",
        "Hospitals filled with influenza patients as the winter epidemic peaked.",
    ),
]
QUERIES = [
    ("q1", "volcanic eruption in Japan", "volcano"),
    ("q2", "interest rate rise", "news/7"),
    ("q3", "world record in Berlin marathon", ".hidden"),
    ("q4", "Fuji", "volcano"),
]


def _beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in DOCS),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t, _ in QUERIES), encoding="utf-8"
    )
    (folder / "qrels/test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, _, d in QUERIES) + "q2\tchess\t0\n",
        encoding="utf-8",
    )  # score 0: judged not relevant
    return folder


def _qa_eval(argv: list[str]) -> int:
    """`qa eval ...` through the CLI's own parser and dispatch (QAError -> message, exit 2)."""
    return cli.main(argv)


def test_beir_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    beir = _beir(tmp_path / "tiny")
    assert _qa_eval(["eval", str(beir), "--mode", "all", "--json"]) == 0
    out, err = capsys.readouterr()
    results = json.loads(out)
    assert set(results) == {"hybrid", "dense", "keyword"}
    for mode, metrics in results.items():
        assert list(metrics) == ["ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10"], mode
        assert metrics["recall@10"] == 1.0, mode  # five documents: every target is in the top ten
    # q4 names only the title ("Fuji"): the keyword retriever can find it only if titles are indexed
    assert results["keyword"]["recall@1"] == 1.0
    assert results["hybrid"]["ndcg@10"] >= 0.9
    assert "5 added" in err
    docs = sorted(p.name for p in (tmp_path / "cache/qa/beir").glob("*/*.txt"))
    assert docs == ["%2Ehidden.txt", "chess.txt", "flu.txt", "news%2F7.txt", "volcano.txt"]
    # a second run reuses the index: nothing is encoded again
    assert _qa_eval(["eval", str(beir), "--mode", "keyword"]) == 0
    out, err = capsys.readouterr()
    assert "0 passages encoded" in err and "5 unchanged" in err
    assert out.splitlines()[0] == "4 queries" and out.splitlines()[2].startswith("keyword")


def test_tsv_needs_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text("qid\tquery\tdoc\n", encoding="utf-8")
    assert _qa_eval(["eval", str(tsv)]) == 2
    assert "add --corpus FOLDER" in capsys.readouterr().err


def test_corpus_set_one_table_against_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sets = tmp_path / "ir"
    first, second = _beir(sets / "alpha"), _beir(sets / "beta")
    (sets / "README.md").write_text(
        "| folder | docs | queries |\n|---|---|---|\n| `alpha/` | 5 | 1,460 |\n\n"  # counts, not figures
        "| folder | bm25s (stemmed) | MiniLM exact |\n|---|---|---|\n| `alpha/` | 0.70 | — |\n| beta | 0.95 (whole) | 0.90 |\n",
        encoding="utf-8",
    )
    argv = ["eval", str(first), str(second), str(sets / "README.md"), "--corpus-set", "--mode", "keyword"]
    argv += ["--index", str(tmp_path / "idx")]
    assert _qa_eval([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert "skipped" in err and "README.md" in err  # a shell glob over the folder matches its README too
    assert report["references"] == {"alpha": {"bm25s": 0.7}, "beta": {"bm25s": 0.95, "MiniLM": 0.9}}
    ndcg = {name: report["results"][name]["keyword"]["ndcg@10"] for name in ("alpha", "beta")}
    assert ndcg["alpha"] == ndcg["beta"] > 0.9  # the same collection twice, each in its own index
    assert report["gaps"] == {"alpha": round(ndcg["alpha"] - 0.7, 4), "beta": round(ndcg["beta"] - 0.95, 4)}
    assert report["worst"]["collection"] == "beta"
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == ["alpha", "beta"]
    assert _qa_eval(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["collection", "queries", "keyword", "bm25s", "MiniLM", "best", "ref", "keyword", "-", "best"]
    assert lines[2].split()[:4] == ["alpha", "4", f"{ndcg['alpha']:.4f}", "0.7000"] and lines[2].split()[4] == "—"
    assert lines[4].split()[0] == "mean" and lines[-1].startswith("worst gap of keyword to the best reference:")


def test_several_datasets_need_corpus_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _beir(tmp_path / "a"), _beir(tmp_path / "b")
    assert _qa_eval(["eval", str(first), str(second)]) == 2
    assert "add --corpus-set" in capsys.readouterr().err
    assert _qa_eval(["eval", str(tmp_path / "a" / "corpus.jsonl"), "--corpus-set"]) == 2
    assert "needs BEIR folders" in capsys.readouterr().err


def test_a_wheels_readme_is_written_as_markdown_or_plain_text(tmp_path: Path) -> None:
    """bench/questions/readmes.jsonl's documents: each pinned wheel's long description, verbatim."""
    from qa.eval.readmes import PINS, _wheel, readme

    body = "# bm25s\n\nBM25S is fast.\n\n\n```python\nimport bm25s\n```\n"
    for name, kind, expected in [("bm25s", "text/markdown", "bm25s.md"), ("psutil", "text/x-rst", "psutil.txt")]:
        wheel = tmp_path / f"{name}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nDescription-Content-Type: {kind}\n\n{body}"
            archive.writestr(f"{name}-1.0.dist-info/METADATA", meta)
        assert readme(wheel) == (expected, body)  # blank lines and code kept byte for byte
    assert _wheel(tmp_path, "bm25s==1.0") == tmp_path / "bm25s-1.0-py3-none-any.whl"
    assert all("==" in pin for pin in PINS)  # pinned, so the evidence sentences stay verbatim
