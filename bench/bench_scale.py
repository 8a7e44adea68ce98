"""retrieve() at every size, and beside txtai on the full news index: the one command for the figures.

    python bench/bench_scale.py                          # full news index vs txtai, then 10k, 100k, 1M passages
    python bench/bench_scale.py --sizes 10000 100000     # fewer sizes
    python bench/bench_scale.py --no-txtai

Missing pieces are built first, once, in $QA_BENCH_DIR: the scaled indexes (bench/scale_index.py,
from the full news index: ~15 min for 100k, ~1-2 h for 1M on 2 idle cores, most of it the IVF
build) and txtai's index of the same passages (bench/txtai_worker.py build, in txtai's venv:
$QA_BENCH_TXTAI, default /work/txtai-venv). Each index is then timed in a fresh process
(bench/bench_retrieve.py), so its RSS is that of a server holding only it. Prints a Markdown table
and writes bench/results/bench_scale.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_retrieve import TXTAI_PYTHON  # noqa: E402
from bench.common import BENCH_DIR, write_result  # noqa: E402
from bench.eval_news import corpus  # noqa: E402
from qa.eval.retrieval import default_index_dir  # noqa: E402
from qa.index.store import Store  # noqa: E402
from qa.terminal import log  # noqa: E402


def run(args: list[str], python: str = sys.executable) -> str:
    log(" ".join(["$", Path(python).name, *args]))
    return subprocess.run([python, *args], check=True, stdout=subprocess.PIPE, text=True).stdout


def ensure_scaled(source: Path, size: int) -> Path:
    out = BENCH_DIR / f"scale-{size}"
    if not (out / "manifest.json").is_file():
        run([str(ROOT / "bench" / "scale_index.py"), "--source", str(source), "--passages", str(size), "--out", str(out)])
    return out


def ensure_txtai(source: Path) -> Path | None:
    if not TXTAI_PYTHON.is_file():
        log(f"no txtai venv at {TXTAI_PYTHON.parent.parent} (set $QA_BENCH_TXTAI): txtai skipped")
        return None
    out = BENCH_DIR / "txtai-news"
    if not (out / "bench.json").is_file():
        store = Store(source)
        catalog = store.generation_dir(store.require()) / "catalog.sqlite"
        run([str(ROOT / "bench" / "txtai_worker.py"), "build", "--catalog", str(catalog), "--out", str(out)], str(TXTAI_PYTHON))
    return out


def timed(index: Path, txtai: Path | None, queries: int) -> dict[str, Any]:
    extra = ["--txtai", str(txtai)] if txtai else []
    out = run([str(ROOT / "bench" / "bench_retrieve.py"), "--index", str(index), "--queries", str(queries), *extra])
    return dict(json.loads(out.strip().splitlines()[-1]))


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| index | passages | vectors | FAISS | retrieve() p50 / p95 ms | CPU p50 ms | txtai search p50 ms | qa / txtai "
        "| RSS MB (peak) | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        txtai = f"{r['txtai_ms']['p50']:.2f}" if "txtai_ms" in r else "—"
        ratio = f"{r['qa_over_txtai_p50']:.2f}" if "qa_over_txtai_p50" in r else "—"
        lines.append(
            f"| {Path(r['index']).name} | {r['passages']:,} | {r['vectors']:,} | {r['faiss']} | {r['qa_ms']['p50']:.2f} / "
            f"{r['qa_ms']['p95']:.2f} | {r['qa_cpu_ms']['p50']:.2f} | {txtai} | {ratio} | {r['qa_rss_mb']['VmRSS']:.0f} "
            f"({r['qa_rss_mb']['VmHWM']:.0f}) | {r['load_avg'][0]}–{r['load_avg'][1]} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, help="the full news index (default: qa eval's index of the news articles)")
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--no-txtai", action="store_true")
    args = p.parse_args()
    source = args.source or default_index_dir(corpus())
    txtai = None if args.no_txtai else ensure_txtai(source)
    results = [timed(source, txtai, args.queries)]
    for size in args.sizes:
        results.append(timed(ensure_scaled(source, size), None, args.queries))
    print(table(results))
    write_result("bench_scale", {"results": results})


if __name__ == "__main__":
    main()
