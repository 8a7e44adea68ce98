"""Encoder speed-ups on real news passages: passages/s and cosine to fp32, one run, interleaved.

Variants run in rounds (A B C ... A B C ...) so that load from other processes falls on all of
them alike; the figure kept per variant is its median round. Variants:
  fp32-unsorted   the model called on batches in file order (padding to the longest in each batch)
  fp32            embeddings.Encoder: length-sorted batches, inference_mode, threads = cores
  bf16            embeddings.Encoder(precision="bf16"): the transformer cast to bfloat16, pooled in fp32
  bf16-autocast   fp32 weights under torch.autocast("cpu", bfloat16), pooled in fp32
  int8            torch.ao.quantization.quantize_dynamic on the Linear layers
Usage: python bench/bench_encoder.py [--passages 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import news_passages, write_result
from embeddings import Encoder
from embeddings.encoder import bf16_supported


def forward(encoder: Encoder, model: torch.nn.Module, texts: list[str], sort: bool, autocast: bool = False) -> np.ndarray:
    """Mean-pooled, normalised vectors straight from a transformer (what sentence-transformers does)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if sort else list(range(len(texts)))
    out = np.empty((len(texts), encoder.dim), np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for start in range(0, len(texts), encoder.batch_size):
            idx = order[start : start + encoder.batch_size]
            batch = encoder.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=encoder.max_tokens, return_tensors="pt"
            )
            hidden = model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            out[idx] = pooled.numpy()
    return out


def variants() -> dict[str, Callable[[list[str]], np.ndarray]]:
    fp32 = Encoder(precision="fp32")
    transformer = fp32._model[0].auto_model
    found: dict[str, Callable[[list[str]], np.ndarray]] = {
        "fp32": fp32.encode_passages,
        "fp32-unsorted": lambda t: forward(fp32, transformer, t, sort=False),
    }
    if bf16_supported():
        found["bf16"] = Encoder(precision="bf16").encode_passages
        found["bf16-autocast"] = lambda t: forward(fp32, transformer, t, sort=True, autocast=True)
    quantised = torch.ao.quantization.quantize_dynamic(transformer, {torch.nn.Linear}, dtype=torch.qint8)
    found["int8"] = lambda t: forward(fp32, quantised, t, sort=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=128, help="passages per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pool = news_passages(limit=5000)
    rng = random.Random(0)
    runs = variants()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    cosines: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        texts = rng.sample(pool, args.passages)
        reference = None
        for name, encode in runs.items():
            encode(texts[:8])  # warm-up: first calls allocate
            start = time.perf_counter()
            vectors = encode(texts)
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
    write_result("encoder", {"passages_per_round": args.passages, "rounds": args.rounds, "variants": table})


if __name__ == "__main__":
    main()
