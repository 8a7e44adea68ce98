"""Every speed benchmark in one run (`make bench`), so that ratios compare like with like.

    1. encoder variants on real passages (bench_encoder.py), int8 schemes (bench_int8.py)
    2. ingestion + re-index, once per precision (fp32, bf16, and int8 where native; news_index.py),
       nDCG@10 of each on the headlines
    3. retrieve() latency and RSS of a fresh serving process (bench_query.py)
    4. txtai on the same passages in its own venv (bench_txtai.py), its nDCG@10 scored the same way
    5. FAISS alone at 100k and 1M vectors (bench_faiss.py)
Writes bench/results/*.json and bench/results/summary.md (rows for docs/benchmarks/speed.md).
Usage: python bench/run_all.py [--articles N] [--skip encoder fp32 int8 txtai faiss] [--txtai-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import news_index
from bench.common import BENCH_DIR, RESULTS, TITLES, write_result

HERE = Path(__file__).resolve().parent
TXTAI_PYTHON = os.environ.get("QA_BENCH_TXTAI", "/work/txtai-venv/bin/python")


def script(name: str, *args: str, python: str = sys.executable, env: dict[str, str] | None = None) -> str:
    print(f"== {name} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [python, str(HERE / name), *args], check=True, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    return done.stdout


def ndcg(index_dir: Path | None, folder: Path, run: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """qa eval's metrics on the headlines of the articles in `folder`: per mode for qa, or for a given run."""
    from qa.eval.retrieval import evaluate_modes, load_tsv, score

    data = load_tsv(TITLES, folder)
    present = {p.stem for p in folder.glob("*.txt")}
    qrels = {q: rel for q, rel in data.qrels.items() if set(rel) <= present}
    data = data.__class__(data.name, data.corpus, {q: t for q, t in data.queries.items() if q in qrels}, qrels, data.doc_id)
    if run is not None:
        return score(data.qrels, run)
    from qa.library import Library

    lib = Library.open(index_dir)
    try:
        return evaluate_modes(lib, data, ("hybrid", "dense", "keyword"))
    finally:
        lib.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=None, help="first N news articles (default: all 3,824)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["encoder", "fp32", "int8", "txtai", "faiss"])
    parser.add_argument("--txtai-python", default=TXTAI_PYTHON)
    args = parser.parse_args()
    sub = ["--articles", str(args.articles)] if args.articles else []
    from embeddings import Encoder

    int8 = Encoder.resolve_precision("int8") == "int8" and "int8" not in args.skip
    summary: dict[str, Any] = {"articles": args.articles or "all", "default_precision": Encoder.resolve_precision("auto")}
    if "encoder" not in args.skip:
        script("bench_encoder.py")
        if int8:
            script("bench_int8.py")
    folder = news_index.subset_folder(args.articles)
    precisions = [p for p in ("fp32", "bf16") if not (p == "fp32" and "fp32" in args.skip)] + (["int8"] if int8 else [])
    for precision in precisions:
        index_dir = BENCH_DIR / f"index-{precision}"
        script("news_index.py", *sub, "--index", str(index_dir), env={"QA_PRECISION": precision})
        ingest = json.loads((RESULTS / f"ingest-{args.articles or 'all'}.json").read_text())
        os.replace(RESULTS / f"ingest-{args.articles or 'all'}.json", RESULTS / f"ingest-{precision}.json")
        os.environ["QA_PRECISION"] = precision
        summary[f"qa_{precision}"] = {"ingest": ingest, "ndcg": ndcg(index_dir, folder)}
        out = script("bench_query.py", "--index", str(index_dir), "--folder", str(folder), env={"QA_PRECISION": precision})
        summary[f"qa_{precision}"]["query"] = json.loads(out.strip().splitlines()[-1])
    if "txtai" not in args.skip and Path(args.txtai_python).exists():
        run_path = RESULTS / "txtai-run.json"
        out = script("bench_txtai.py", "--folder", str(folder), "--out", str(run_path), python=args.txtai_python)
        summary["txtai"] = json.loads(out.strip().splitlines()[-1])
        summary["txtai"]["ndcg"] = ndcg(None, folder, json.loads(run_path.read_text()))
    if "faiss" not in args.skip:
        script("bench_faiss.py", "--index", str(BENCH_DIR / f"index-{summary['default_precision']}"))
        summary["faiss"] = json.loads((RESULTS / "faiss.json").read_text())["sizes"]
    record = json.loads(write_result("summary", summary).read_text())  # with machine, command, date
    from bench.report import markdown

    (RESULTS / "summary.md").write_text(markdown(record))
    print(markdown(record))


if __name__ == "__main__":
    main()
