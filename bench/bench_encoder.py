"""Encoder speed-ups on real news passages and headline queries, one run, variants interleaved.

Passages (--passages N a round): passages/s and cosine to fp32. Variants:
  fp32            embeddings.Encoder: PackedBert, length-sorted batches, inference_mode, threads = cores
  fp32-st         the same through sentence-transformers' modules (the path before PackedBert)
  fp32-one        embeddings.Encoder with one passage a forward pass, unpadded (before the buckets)
  fp32-unsorted   the Hugging Face model called on batches in file order (padding to the longest)
  bf16            embeddings.Encoder(precision="bf16"): PackedBert in bfloat16, pooled in fp32
  bf16-st         the bf16 transformer through sentence-transformers' modules, pooled in fp32
  bf16-one        embeddings.Encoder(precision="bf16") with one passage a forward pass, unpadded
  bf16-autocast   fp32 weights under torch.autocast("cpu", bfloat16), pooled in fp32
  int8            torch.ao.quantization.quantize_dynamic on the Linear layers
Queries (--queries N): encode_query latency, one headline at a time, p50/p95 in ms, for
fp32 / fp32-st / bf16 / bf16-st, in blocks of 25 queries a variant, rotating; cosine to the -st
vector of the same precision (what the index was built with before PackedBert).
Rounds rotate the variants (A B C ... A B C ...) so that load from other processes falls on all
of them alike; the figure kept per variant is its median round. The load average goes with it.
With --per-article, each round's passages are whole articles, one call an article (what syncing one
changed file encodes; ~12 passages a call), instead of one call of --passages.
Usage: python bench/bench_encoder.py [--passages 128] [--rounds 3] [--queries 300] [--only NAME ...] [--per-article]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import news_chunks, percentiles, title_queries, write_result
from embeddings import Encoder
from embeddings.encoder import bf16_supported


def forward(encoder: Encoder, model: torch.nn.Module, texts: list[str], sort: bool, autocast: bool = False) -> np.ndarray:
    """Mean-pooled, normalised vectors straight from a transformer (what sentence-transformers does)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if sort else list(range(len(texts)))
    out = np.empty((len(texts), encoder.dim), np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for start in range(0, len(texts), encoder.batch_size):
            idx = order[start : start + encoder.batch_size]
            batch = encoder._model.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=encoder.max_tokens, return_tensors="pt"
            )
            hidden = model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            out[idx] = pooled.numpy()
    return out


def encoders() -> dict[str, Encoder]:
    """fp32 / bf16 as embeddings.Encoder runs them, and "-st": the same without PackedBert."""
    found = {}
    for precision in ("fp32", "bf16") if bf16_supported() else ("fp32",):
        found[precision] = Encoder(precision=precision)
        found[f"{precision}-st"] = st = Encoder(precision=precision, loader="sentence-transformers")
        st._fast = st._one = None  # sentence-transformers' modules, as before PackedBert (queries too)
    return found


def variants(enc: dict[str, Encoder]) -> dict[str, Callable[[list[str]], np.ndarray]]:
    fp32 = enc["fp32-st"]  # the sentence-transformers model's own modules
    transformer = fp32._model[0].auto_model
    found: dict[str, Callable[[list[str]], np.ndarray]] = {name: e.encode_passages for name, e in enc.items()}
    found["fp32-unsorted"] = lambda t: forward(fp32, transformer, t, sort=False)
    for precision in ("fp32", "bf16") if "bf16" in enc else ("fp32",):
        one = Encoder(precision=precision)
        one.bucket_step = one.bucket_rows = 1  # a pass of one text, padded to nothing
        found[f"{precision}-one"] = one.encode_passages
    if "bf16" in enc:
        found["bf16-autocast"] = lambda t: forward(fp32, transformer, t, sort=True, autocast=True)
    quantised = torch.ao.quantization.quantize_dynamic(transformer, {torch.nn.Linear}, dtype=torch.qint8)
    found["int8"] = lambda t: forward(fp32, quantised, t, sort=True)
    return found


def query_latency(enc: dict[str, Encoder], queries: list[str], block: int = 25) -> dict[str, dict[str, Any]]:
    """encode_query one headline at a time, variants in rotating blocks; cosine to the -st path."""
    samples: dict[str, list[float]] = {name: [] for name in enc}
    for e in enc.values():
        for q in queries[:10]:
            e.encode_query(q)  # warm-up
    for start in range(0, len(queries), block):
        for name, e in enc.items():
            for q in queries[start : start + block]:
                t = time.perf_counter()
                e.encode_query(q)
                samples[name].append((time.perf_counter() - t) * 1000)
    out = {}
    for name, e in enc.items():
        reference = enc[name.removesuffix("-st") + "-st"]
        cos = [float(e.encode_query(q) @ reference.encode_query(q)) for q in queries[:100]]
        out[name] = {**percentiles(samples[name]), "cosine_min": round(min(cos), 6), "precision": e.precision}
        print(f"| {name} | {out[name]['p50']} | {out[name]['p95']} | {out[name]['cosine_min']} |", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=128, help="passages per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300, help="headlines for encode_query latency (0: skip)")
    parser.add_argument("--only", nargs="*", help="passage variants to run (default: all; fp32 is always run)")
    parser.add_argument("--per-article", action="store_true", help="one call an article, not one call a round")
    args = parser.parse_args()
    enc = encoders()
    result: dict[str, object] = {}
    if args.queries:
        rows = [q for _, q, _ in title_queries()]
        queries = random.Random(3).sample(rows, args.queries)
        result["query_load_before"] = round(os.getloadavg()[0], 2)
        result["encode_query_ms"] = query_latency(enc, queries)
        result["query_load_after"] = round(os.getloadavg()[0], 2)
    if args.passages:
        result.update(passage_rates(enc, args.passages, args.rounds, args.only, args.per_article))
    write_result("encoder", result)


def passage_rates(
    enc: dict[str, Encoder], passages: int, rounds: int, only: list[str] | None, per_article: bool
) -> dict[str, object]:
    articles: dict[str, list[str]] = {}
    for article, text in itertools.islice(news_chunks(), 5000):  # the first 5,000 passages, by article
        articles.setdefault(article, []).append(text)
    pool = [t for texts in articles.values() for t in texts]
    rng = random.Random(0)
    runs = {name: f for name, f in variants(enc).items() if not only or name in only or name == "fp32"}
    runs = {"fp32": runs.pop("fp32"), **runs}  # the reference first in every round
    rates: dict[str, list[float]] = {name: [] for name in runs}
    cosines: dict[str, list[float]] = {name: [] for name in runs}
    load_before = round(os.getloadavg()[0], 2)
    for _ in range(rounds):
        calls = [rng.sample(pool, passages)]
        if per_article:
            calls = []
            for article in rng.sample(sorted(articles), len(articles)):
                calls.append(articles[article])
                if sum(map(len, calls)) >= passages:
                    break
        texts = [t for call in calls for t in call]
        reference = None
        for name, encode in runs.items():
            encode(texts[:8])  # warm-up: first calls allocate
            start = time.perf_counter()
            vectors = np.concatenate([encode(call) for call in calls])
            rates[name].append(len(texts) / (time.perf_counter() - start))
            reference = vectors if name == "fp32" else reference
            if reference is not None:
                cosines[name].extend(np.sum(vectors * reference, axis=1).tolist())
            print(f"{name:14s} {rates[name][-1]:7.1f} passages/s", flush=True)
    base = statistics.median(rates["fp32"])
    table = {
        name: {
            "passages_per_s": round(statistics.median(r), 1),
            "vs_fp32": round(statistics.median(r) / base, 2),
            "cosine_mean": round(float(np.mean(cosines[name])), 5),
            "cosine_min": round(float(np.min(cosines[name])), 5),
            "rounds": [round(x, 1) for x in r],
        }
        for name, r in rates.items()
    }
    for name, row in table.items():
        print(f"| {name} | {row['passages_per_s']} | {row['vs_fp32']}x | {row['cosine_mean']} | {row['cosine_min']} |")
    load = [load_before, round(os.getloadavg()[0], 2)]
    how = "one an article" if per_article else "one a round"
    return {"passages_per_round": passages, "calls": how, "rounds": rounds, "variants": table, "passage_load": load}


if __name__ == "__main__":
    main()
