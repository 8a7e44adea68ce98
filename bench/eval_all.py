"""The check every retrieval change passes: every collection x mode in one table.

    python bench/eval_all.py                       # the five IR collections and the three news sets
    python bench/eval_all.py --only cisi med       # some of them
    python bench/eval_all.py --ir-only             # the IR collections alone (a few minutes)

The IR collections (../shared/data/ir/, BEIR folders) are judged against the reference figures in
the README beside them (bm25s, MiniLM, their RRF); the news sets (the 3,662 headlines, the 120
natural questions, the 600 detail questions of `eval_news.py deep`) against qa's own figures
before this change (bench/news_references.json), since no outside system was run on them. Each
collection has its own index under $QA_BENCH_DIR/eval/ (the news sets: --news-index, default the
`qa eval` cache of the articles, which a sync of the unchanged articles only reads). Prints the
table (qa.terminal.format_collections) and writes bench/results/eval_all.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_DIR, SHARED, write_result  # noqa: E402
from bench.eval_news import corpus  # noqa: E402
from qa import config  # noqa: E402
from qa.eval.collections import load_references, rows, summary  # noqa: E402
from qa.eval.retrieval import Dataset, default_index_dir, evaluate_modes, load_beir, load_tsv, metric_names  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.terminal import format_collections, log  # noqa: E402

IR = SHARED / "data" / "ir"
NEWS = {
    "headlines": SHARED / "data" / "news_titles.tsv",
    "natural": ROOT / "bench" / "questions" / "natural.tsv",
    "deep": BENCH_DIR / "deep.tsv",  # written by eval_news.py deep (seed 7), as every earlier figure
}
NEWS_REFERENCES = ROOT / "bench" / "news_references.json"


def datasets(only: list[str] | None, ir_only: bool, news_index: Path | None = None) -> list[tuple[Dataset, Path]]:
    """(dataset, its index folder) for every collection asked for."""
    out = []
    for folder in sorted(p for p in IR.iterdir() if (p / "corpus.jsonl").is_file()):
        if not only or folder.name in only:
            data = load_beir(folder)
            out.append((data, BENCH_DIR / "eval" / folder.name))
    if ir_only:
        return out
    articles = corpus()
    for name, tsv in NEWS.items():
        if only and name not in only:
            continue
        if name == "deep" and not tsv.is_file():
            from bench.eval_news import cmd_deep

            cmd_deep(argparse.Namespace(out=tsv, n=600, seed=7, corpus=articles))
        data = load_tsv(tsv, articles)
        index = news_index or default_index_dir(articles)
        out.append((Dataset(name, data.corpus, data.queries, data.qrels, data.doc_id), index))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", help="collection names (cisi, med, cran, cacm, npl, headlines, natural, deep)")
    p.add_argument("--ir-only", action="store_true", help="the IR collections alone")
    p.add_argument("--mode", choices=(*config.MODES, "all"), default="all")
    p.add_argument("--news-index", type=Path, help="index of the news articles (default: the qa eval cache's)")
    args = p.parse_args()
    modes = config.MODES if args.mode == "all" else (args.mode,)
    chosen = datasets(args.only, args.ir_only, args.news_index)
    references = load_references(IR / "README.md", [d.name for d, _ in chosen])
    references.update({k: v for k, v in json.loads(NEWS_REFERENCES.read_text()).items() if k in NEWS})
    results, queries, seconds = {}, {}, {}
    for data, index in chosen:
        started = time.monotonic()
        lib = Library.open(index)
        try:
            report = lib.sync(data.corpus)
            log(f"{data.name}: {report.added} added, {report.unchanged} unchanged, {report.chunks_encoded} passages encoded")
            results[data.name] = evaluate_modes(lib, data, modes, 10, log)
        finally:
            lib.close()
        queries[data.name], seconds[data.name] = len(data.queries), round(time.monotonic() - started)
    metric, mode = metric_names(10)[0], config.MODES[0] if args.mode == "all" else args.mode
    table = rows(results, queries, references, metric)
    print(format_collections(table, mode, metric))
    write_result("eval_all", {"metric": metric, "results": results, "references": references, "seconds": seconds,
                              **summary(table, mode)})  # fmt: skip


if __name__ == "__main__":
    main()
