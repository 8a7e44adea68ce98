"""retrieve() latency p50/p95/p99 per mode and the resident memory of the process serving the index.

Run in a fresh process (run_all does) so the RSS is that of a server: model + index + catalog.
Queries are news headlines of articles in the indexed folder, in a fixed random order.
Usage: python bench/bench_query.py --index DIR --folder DIR [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import headlines, percentiles


def rss_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of this process, in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    before = rss_mb()
    from qa.library import Library

    lib = Library.open(args.index)
    questions = headlines(args.folder, args.queries)
    start = time.perf_counter()
    lib.retrieve(questions[0], k=args.k)  # loads the model and the index, as a server's first question does
    first_s = time.perf_counter() - start
    for q in questions[:10]:
        lib.retrieve(q, k=args.k)  # warm-up
    latency = {}
    for mode in ("hybrid", "dense", "keyword"):
        samples = []
        for q in questions:
            start = time.perf_counter()
            lib.retrieve(q, k=args.k, mode=mode)
            samples.append((time.perf_counter() - start) * 1000)
        latency[mode] = percentiles(samples)
    encoder = lib.encoder
    samples = []
    for q in questions:
        start = time.perf_counter()
        encoder.encode_query(q)
        samples.append((time.perf_counter() - start) * 1000)
    latency["encode_query"] = percentiles(samples)
    kind = lib.view().vectors.kind
    result = {
        "first_query_s": round(first_s, 2), "latency_ms": latency, "rss_mb": rss_mb(), "rss_before_import_mb": before,
        "precision": encoder.precision, "index_kind": kind, "k": args.k,
    }  # fmt: skip
    lib.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
