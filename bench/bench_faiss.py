"""FAISS search alone at 100k and 1M vectors: exact flat vs the IVF index VectorIndex builds.

Speed: single queries on one FAISS thread (as retrieve() runs them), p50/p95/p99 in ms, for the top
10 and for the 400 vectors retrieve() asks for (200 passages, 2 vectors each). Exact search both in
float32 and in float16, as VectorIndex keeps it up to embeddings.index.flat_max().
Data, stated because recall depends on it:
  - "random": random unit vectors (no structure; the speed anchor of the issue). IVF uses the
    nprobe tuned on the "news-like" set of the same size, since random data has no clusters to find.
  - "news-like": the real news passage vectors (from the ingestion benchmark's index) plus noisy
    copies of them (cosine ~0.6-0.95 to their parent) up to the size; queries are real headline
    vectors, which are not in the index. Recall@10 is against exact search on the same vectors.
Usage: python bench/bench_faiss.py [--sizes 100000 1000000] [--queries 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Timer, percentiles, title_queries, write_result
from bench.news_index import INDEX_DIR, real_vectors
from embeddings import ivf
from embeddings.index import flat_index
from qa.search import retrieve

DIM = 384
DEPTH = retrieve.CANDIDATES * retrieve.VECTORS_PER_CANDIDATE  # the vectors retrieve() asks FAISS for: 400


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def news_like(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """The real vectors, then noisy copies of random real vectors up to n."""
    extra = n - len(real)
    if extra <= 0:
        return real[:n]
    parents = real[rng.integers(0, len(real), extra)]
    scale = rng.uniform(0.35, 1.3, (extra, 1)).astype(np.float32)
    noise = rng.standard_normal((extra, DIM), dtype=np.float32) * (scale / np.sqrt(DIM))
    return np.concatenate([real, unit(parents + noise)])


def cached_vectors(path: Path) -> np.ndarray:
    """Every vector of a qa vector cache, opened read-only (another process may be writing it)."""
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # A row is a passage's vector and its sentences' in float16 (index format 4), then a 4-byte CRC-32.
    rows = [np.frombuffer(blob[:-4], dtype=np.float16).reshape(-1, DIM) for (blob,) in db.execute("SELECT vecs FROM vectors16")]
    db.close()
    return np.concatenate(rows).astype(np.float32)


def single_query_ms(index: faiss.Index, queries: np.ndarray, k: int = 10) -> dict[str, float]:
    faiss.omp_set_num_threads(1)
    params = faiss.SearchParametersIVF(nprobe=ivf.nprobe_for(index, k)) if isinstance(index, faiss.IndexIVF) else None  # type: ignore[call-arg]
    index.search(queries[:5], k, params=params)
    samples = []
    for q in queries:
        start = time.perf_counter()
        index.search(q[None, :], k, params=params)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def exact_float16(vectors: np.ndarray) -> faiss.Index:
    """The exact index VectorIndex keeps up to flat_max(): inner product over float16 codes."""
    index = flat_index(DIM)
    index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    return index


def recall_at(index: faiss.Index, exact: faiss.Index, queries: np.ndarray, k: int) -> float:
    """Recall@k against exact search, at the nprobe VectorIndex.search uses for k."""
    faiss.omp_set_num_threads(2)
    _, truth = exact.search(queries, k)
    params = faiss.SearchParametersIVF(nprobe=ivf.nprobe_for(index, k))  # type: ignore[call-arg]
    _, found = index.search(queries, k, params=params)
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found, strict=True)]))


def run_size(n: int, real: np.ndarray, queries: np.ndarray, rng: np.random.Generator) -> dict[str, object]:
    out: dict[str, object] = {"n": n}
    vectors = news_like(real, n, rng)
    ids = np.arange(n, dtype=np.int64)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    half = exact_float16(vectors)
    with Timer() as t:
        index = ivf.build(ids, vectors)
    out["news_like"] = {
        "ivf_build_s": round(t.seconds, 1), **ivf.params(index),
        "ivf_recall_at_10": round(recall_at(index, exact, queries, 10), 4),
        "ivf_recall_at_100": round(recall_at(index, exact, queries, 100), 4),
        "ivf_ms": single_query_ms(index, queries), "flat_ms": single_query_ms(exact, queries[:50]),
        "ivf_ms_400": single_query_ms(index, queries, DEPTH), "flat_ms_400": single_query_ms(exact, queries[:50], DEPTH),
        "flat16_ms": single_query_ms(half, queries[:50]), "flat16_ms_400": single_query_ms(half, queries[:50], DEPTH),
    }  # fmt: skip
    nprobe = index.nprobe
    del index, exact, half, vectors
    random = unit(rng.standard_normal((n, DIM), dtype=np.float32))
    exact = faiss.IndexFlatIP(DIM)
    exact.add(random)
    quantizer = faiss.IndexFlatIP(DIM)
    index = faiss.IndexIVFFlat(quantizer, DIM, ivf.nlist_for(n), faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    faiss.omp_set_num_threads(2)
    index.train(random[rng.choice(n, min(n, ivf.TRAIN_PER_LIST * index.nlist), replace=False)])
    index.add(random)
    index.nprobe = nprobe
    rq = unit(rng.standard_normal((len(queries), DIM), dtype=np.float32))
    out["random"] = {"nprobe": nprobe, "ivf_ms": single_query_ms(index, rq), "flat_ms": single_query_ms(exact, rq[:50])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--index", type=Path, default=INDEX_DIR, help="a built news index: its vectors seed the news-like set")
    parser.add_argument("--name", default="faiss", help="result file name (bench/results/NAME.json)")
    parser.add_argument("--seed", type=int, default=7, help="seeds the news-like set and the headline sample")
    parser.add_argument("--cache", type=Path, help="also seed with the vectors of this vector-cache.sqlite (read only)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    parts = [real_vectors(args.index)] if (args.index / "manifest.json").exists() else []
    if args.cache:
        parts.append(cached_vectors(args.cache))
    real = np.unique(np.concatenate(parts), axis=0)
    from embeddings import Encoder

    titles = [q for _, q, _ in title_queries()]
    picked = [titles[i] for i in rng.choice(len(titles), args.queries, replace=False)]
    queries = Encoder(precision="fp32").encode_passages(picked)
    results = [run_size(n, real, queries, rng) for n in args.sizes]
    for r in results:
        print(r)
    write_result(args.name, {"real_vectors": len(real), "queries": len(queries), "sizes": results})


if __name__ == "__main__":
    main()
