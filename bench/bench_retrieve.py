"""retrieve() latency by stage and the serving RSS on one index, beside txtai's search when asked.

    python bench/bench_retrieve.py --index DIR [--txtai TXTAI_INDEX] [--queries 300] [--block 20]

Queries are news headlines in a fixed random order. With --txtai, a txtai worker (its own venv,
bench/txtai_worker.py serve) loads a txtai index of the same passages, and the two take turns in
blocks of --block questions, the same questions each turn, so both see the same machine load:
the ratio is the figure to read on a shared machine. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import TITLES, percentiles  # noqa: E402

TXTAI_PYTHON = Path(os.environ.get("QA_BENCH_TXTAI", "/work/txtai-venv")) / "bin" / "python"


def rss_mb(pid: str = "self") -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


def headlines(n: int) -> list[str]:
    rows = [line.split("\t")[1] for line in TITLES.read_text(encoding="utf-8").splitlines()[1:] if "\t" in line]
    random.Random(3).shuffle(rows)
    return rows[:n]


class Stages:
    """Wall time of each stage of qa.search.retrieve.search, by wrapping the functions it calls."""

    NAMES = ("encode", "dense", "lexical", "collapse", "hits")

    WRAPPED = (("dense", "dense_candidates"), ("lexical", "lexical_candidates"), ("collapse", "collapse"), ("hits", "_hits"))

    def __init__(self, encoder: Any) -> None:
        from qa.search import retrieve

        self.samples: dict[str, list[float]] = {name: [] for name in self.NAMES}
        for name, attr in self.WRAPPED:
            setattr(retrieve, attr, self._timed(name, getattr(retrieve, attr)))
        encoder.encode_query = self._timed("encode", encoder.encode_query)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.samples[name].append((time.perf_counter() - start) * 1000)

        return timed

    def medians(self) -> dict[str, float]:
        return {k: round(statistics.median(v), 3) for k, v in self.samples.items() if v}


def txtai_worker(index: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [str(TXTAI_PYTHON), str(ROOT / "bench" / "txtai_worker.py"), "serve", "--index", str(index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert worker.stdout is not None
    json.loads(worker.stdout.readline())  # {"ready": true}
    return worker


def ask_txtai(worker: subprocess.Popen[str], questions: list[str]) -> dict[str, Any]:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(json.dumps({"queries": questions, "k": 10}) + "\n")
    worker.stdin.flush()
    return json.loads(worker.stdout.readline())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--txtai", type=Path, help="a txtai index of the same passages (bench/txtai_worker.py build)")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--block", type=int, default=20)
    p.add_argument("--k", type=int, default=5)
    args = p.parse_args()
    from qa.library import Library

    load = [round(os.getloadavg()[0], 2)]
    questions = headlines(args.queries)
    lib = Library.open(args.index)
    start = time.perf_counter()
    lib.warm()
    open_s = time.perf_counter() - start
    for q in questions[:10]:
        lib.retrieve(q, k=args.k)
    stages = Stages(lib.encoder)
    worker = txtai_worker(args.txtai) if args.txtai else None
    if worker:
        ask_txtai(worker, questions[:10])
    qa_ms: list[float] = []
    qa_cpu_ms: list[float] = []  # CPU time of this process: less sensitive to other processes than wall time
    txtai_ms: list[float] = []
    txtai_cpu_ms: list[float] = []
    txtai_rss: dict[str, float] = {}
    for i in range(0, len(questions), args.block):
        block = questions[i : i + args.block]
        for q in block:
            t, c = time.perf_counter(), time.process_time()
            lib.retrieve(q, k=args.k)
            qa_ms.append((time.perf_counter() - t) * 1000)
            qa_cpu_ms.append((time.process_time() - c) * 1000)
        if worker:
            reply = ask_txtai(worker, block)
            txtai_ms += reply["ms"]
            txtai_cpu_ms += reply["cpu_ms"]
            txtai_rss = {"VmRSS": reply["rss_mb"]}
    load.append(round(os.getloadavg()[0], 2))
    view = lib.view()
    result: dict[str, Any] = {
        "index": str(args.index), "passages": view.manifest.get("chunks"), "vectors": len(view.vectors),
        "faiss": view.vectors.kind, "open_and_warm_s": round(open_s, 2), "qa_ms": percentiles(qa_ms),
        "qa_cpu_ms": percentiles(qa_cpu_ms), "qa_stages_p50_ms": stages.medians(), "qa_rss_mb": rss_mb(), "load_avg": load,
    }  # fmt: skip
    if worker:
        result.update(txtai_ms=percentiles(txtai_ms), txtai_cpu_ms=percentiles(txtai_cpu_ms), txtai_rss_mb=txtai_rss,
                      qa_over_txtai_p50=round(result["qa_ms"]["p50"] / percentiles(txtai_ms)["p50"], 3),
                      qa_over_txtai_cpu_p50=round(result["qa_cpu_ms"]["p50"] / percentiles(txtai_cpu_ms)["p50"], 3))  # fmt: skip
        worker.terminate()
    lib.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
