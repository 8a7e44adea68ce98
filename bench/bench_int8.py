"""int8 passage encoding on VNNI (embeddings/int8.py, precision "int8") against bf16 PackedBert.

torch's dynamic quantisation (bench_encoder.py's "int8") gives cosine 0.935 to fp32: one scale for a
whole batch of activations, and BERT's activations have a few channels far larger than the rest.
`embeddings.int8.int8_bert` keeps rankings: weights int8 per output channel, activations int8 per
tensor after SmoothQuant (each input channel's range moved into the weights), run by oneDNN's
quantised linear with the bias, GELU and residual add fused. Variants:

  bf16        embeddings.Encoder(precision="bf16"): qa's default on this CPU
  int8        int8_bert as precision "int8" runs it: Q/K/V, attention output and FFN-in in int8,
              FFN-out (its input is GELU's output) in bf16, SmoothQuant alpha 0.7
  int8-raw    the same without SmoothQuant
  int8-4      all four linears in int8

Per variant: passages/s (rounds rotate the variants; median round); cosine to sentence-transformers'
fp32 vector; "alone": the lowest cosine between a passage encoded alone and in its batch (why int8
is not the default: an index synced bit by bit must rank as a fresh build); and dense nDCG@10 of the
headlines of the first --articles articles (exact search over the variant's passage vectors, a
document ranked by its best passage, bf16 query vectors).

Usage: python bench/bench_int8.py [--passages 256] [--rounds 3] [--articles 300]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import news_chunks, title_queries, write_result
from embeddings import Encoder
from embeddings.int8 import LINEARS, int8_bert, int8_supported
from embeddings.packed import PackedBert

Model = PackedBert  # bf16, or an int8 copy of it


def encode(encoder: Encoder, model: Model, texts: list[str]) -> np.ndarray:
    """`model`'s vectors, batched as Encoder batches passages (length-sorted, pooled in fp32)."""
    out = np.empty((len(texts), encoder.dim), np.float32)
    encoder._encode_packed(texts, out, None, model, queries=False)
    return out


def dense_ndcg(passages: np.ndarray, owners: list[str], queries: np.ndarray, targets: list[str]) -> float:
    """nDCG@10 of one known article a query, documents ranked by their best passage (exact search)."""
    total = 0.0
    scores = queries @ passages.T
    for q, target in enumerate(targets):
        ranked: list[str] = []
        for i in np.argsort(-scores[q]):
            if owners[i] not in ranked:
                ranked.append(owners[i])
                if len(ranked) == 10:
                    break
        total += 1 / math.log2(ranked.index(target) + 2) if target in ranked else 0.0
    return total / max(len(targets), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=256, help="passages a round (speed, cosine)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--articles", type=int, default=300, help="articles for the nDCG gate (0: skip)")
    parser.add_argument("--alpha", type=float, default=0.7, help="SmoothQuant's migration strength")
    args = parser.parse_args()

    bf16, fp32 = (Encoder(precision=p, loader="sentence-transformers") for p in ("bf16", "fp32"))
    if bf16.precision != "bf16" or bf16._fast is None or not int8_supported():
        sys.exit("needs a CPU with native bf16 (AVX512-BF16 or AMX) and int8 (VNNI or AMX), and PackedBert")
    bert, tokenize = bf16._model[0].auto_model, bf16._calibration_batch
    owners, texts = (list(column) for column in zip(*news_chunks(args.articles + 200), strict=True))
    ids = list(dict.fromkeys(owners))
    gate, timed = set(ids[: args.articles]), set(ids[args.articles :])
    # int8_bert calibrates on its own text (embeddings.int8.CALIBRATION), never on these.
    sample = random.Random(7).sample([t for t, o in zip(texts, owners, strict=True) if o in timed], args.passages)
    models: dict[str, Model] = {
        "bf16": bf16._fast,
        "int8": int8_bert(bf16._fast, bert, tokenize, alpha=args.alpha),
        "int8-raw": int8_bert(bf16._fast, bert, tokenize, alpha=None),
        "int8-4": int8_bert(bf16._fast, bert, tokenize, linears=LINEARS, alpha=args.alpha),
    }
    reference = fp32._model.encode(sample, normalize_embeddings=True, batch_size=16)
    for model in models.values():
        encode(bf16, model, sample[:32])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in models}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            vectors[name] = encode(bf16, model, sample)
            seconds[name].append(time.perf_counter() - start)
    base = len(sample) / statistics.median(seconds["bf16"])
    table: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        rate = len(sample) / statistics.median(seconds[name])
        cosine = (vectors[name] * reference).sum(1)
        table[name] = {
            "passages_per_s": round(rate, 1),
            "vs_bf16": round(rate / base, 2),
            "cosine_mean": round(float(cosine.mean()), 5),
            "cosine_min": round(float(cosine.min()), 5),
            "alone": round(float(min(encode(bf16, model, [t])[0] @ vectors[name][i] for i, t in enumerate(sample[:40]))), 5),
        }
    if args.articles:
        gate_texts = [t for t, o in zip(texts, owners, strict=True) if o in gate]
        gate_owners = [o for o in owners if o in gate]
        rows = [(q, t, a) for q, t, a in title_queries() if a in gate]
        queries = bf16.encode_queries([t for _, t, _ in rows])
        for name, model in models.items():
            found = encode(bf16, model, gate_texts)
            table[name]["dense_ndcg@10"] = round(dense_ndcg(found, gate_owners, queries, [a for *_, a in rows]), 4)
    print("| variant | passages/s | vs bf16 | cosine mean | cosine min | alone | dense nDCG@10 |")
    print("|---|---|---|---|---|---|---|")
    for name, row in table.items():
        cells = [row["passages_per_s"], f"{row['vs_bf16']}x", row["cosine_mean"], row["cosine_min"], row["alone"]]
        cells.append(row.get("dense_ndcg@10", ""))
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    setting = {"passages": args.passages, "rounds": args.rounds, "alpha": args.alpha, "articles": args.articles}
    write_result("int8", {**setting, "variants": table})


if __name__ == "__main__":
    main()
