"""IVF details for VectorIndex: choosing the type, building, tuning nprobe, filtered search.

An IVF index stores its own ids (add_with_ids), removes them in place, and finds a vector by id
through a hash-table direct map, so no IDMap wrapper is needed. nprobe is saved in the FAISS file.
"""

from __future__ import annotations

import math
import os
from typing import Any

import faiss as _faiss
import numpy as np

faiss: Any = _faiss  # FAISS's type stubs miss much of its SWIG API (DirectMap, search parameters)

TARGET_RECALL = 0.95  # recall@10 against exact search, for real questions
MARGIN = 0.005  # added on the tuning queries: ~2 standard errors of a recall over TUNE_QUERIES queries
TUNE_QUERIES = 1000
QUERY_COSINE = 0.5  # how close a tuning query stands to the stored vector it was made from (measured, see tune_nprobe)
# 4 sqrt(n) lists rather than 2: at 1M news-like vectors real headlines reach recall 0.95 at
# nprobe 16 of 4096 lists (0.53 ms) against 24 of 2048 (~1.2 ms); the build takes longer.
LISTS_PER_ROOT = 4
TRAIN_PER_LIST = 40  # FAISS warns below 39 training points per centroid
SUBSET_EXACT_MAX = 20_000  # a date filter allowing fewer vectors than this is searched exactly
MEMORY_SHARE = 0.5  # float16 codes may use this share of available memory, else IVF-PQ
ADD_BATCH = 65_536  # vectors converted to float32 and added at a time: a build never holds two float32 copies


def kind_of(index: Any) -> str:
    if isinstance(index, faiss.IndexIVFPQ):
        return "ivfpq"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


def available_memory() -> int:
    """Bytes of MemAvailable, or total memory where /proc/meminfo is missing."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def kind_for(n: int, dim: int, flat_max: int) -> str:
    if n <= flat_max:
        return "flat"
    return "ivfpq" if n * dim * 2 > MEMORY_SHARE * available_memory() else "ivf"


def nlist_for(n: int) -> int:
    """About LISTS_PER_ROOT * sqrt(n) lists, a power of two: 4096 at 1M vectors, ~250 vectors a list."""
    return max(64, 2 ** round(math.log2(LISTS_PER_ROOT * math.sqrt(max(n, 1)))))


def needs_retrain(index: Any, n: int) -> bool:
    """True when the corpus has grown ~8x (or shrunk ~8x) since the centroids were trained."""
    if kind_of(index) == "flat":
        return False
    ratio = LISTS_PER_ROOT * math.sqrt(max(n, 1)) / faiss.extract_index_ivf(index).nlist
    return ratio > 2.9 or ratio < 0.35


def _pq_m(dim: int) -> int:
    """Sub-quantisers: one byte for every 8 dimensions, a divisor of dim."""
    m = max(1, dim // 8)
    while dim % m:
        m -= 1
    return m


def build(ids: np.ndarray, vectors: np.ndarray, pq: bool = False, seed: int = 1234) -> Any:
    """Train an IVF (or IVF-PQ) index on a sample of `vectors` (float32 or float16), add them all,
    tune nprobe. The lists hold float16 codes, as the exact index does: half of IVFFlat's memory and
    of the bytes a search reads, and the same ranking (a cosine moves by ~1e-5; 1M passages with
    their sentence vectors, 4.5M vectors, take 3.4 GB instead of 6.9)."""
    n, dim = vectors.shape
    nlist = nlist_for(n)
    quantizer = faiss.IndexFlatIP(dim)
    index: Any
    if pq:
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, _pq_m(dim), 8, faiss.METRIC_INNER_PRODUCT)
    else:
        qtype = faiss.ScalarQuantizer.QT_fp16
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, qtype, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    index.cp.niter = 10  # centroids barely move after 10 rounds; 25 costs 2.5x the build time
    rng = np.random.default_rng(seed)
    picked = rng.choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False)
    sample = np.ascontiguousarray(vectors[picked], dtype=np.float32)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index.train(sample)
    del sample
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    for i in range(0, n, ADD_BATCH):
        index.add_with_ids(np.ascontiguousarray(vectors[i : i + ADD_BATCH], dtype=np.float32), ids[i : i + ADD_BATCH])
    index.nprobe = tune_nprobe(index, ids, vectors, rng)
    return index


def tune_nprobe(index: Any, ids: np.ndarray, vectors: np.ndarray, rng: np.random.Generator) -> int:
    """Smallest nprobe whose recall@10 against exact search reaches TARGET_RECALL + MARGIN.

    The queries are stored vectors pushed away from themselves to cosine QUERY_COSINE, like a
    question is to its passage: the stored vectors themselves need far fewer probes than real
    questions (0.98 against 0.77 recall at the same nprobe). On the news corpus real headlines
    need fewer probes than these queries at 100k and 1M vectors (0.55-0.6 tracks them at 100k but
    asks too few at 1M). Recall grows with nprobe: doubling then bisecting finds the smallest depth.
    """
    queries = tuning_queries(vectors, rng)
    truth = ids[exact_top(queries, vectors, 10)]

    def good(nprobe: int) -> bool:
        index.nprobe = nprobe
        _, found = index.search(queries, 10)
        recall = np.mean([len(set(t) & set(f)) for t, f in zip(truth, found, strict=True)]) / 10
        return bool(recall >= TARGET_RECALL + MARGIN)

    nlist = faiss.extract_index_ivf(index).nlist
    low, high = 0, 1  # good(high) unknown yet; every depth <= low fails
    while high < nlist and not good(high):
        low, high = high, min(nlist, 2 * high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if good(middle) else (middle, high)
    return high


def exact_top(queries: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    """Rows of `vectors` (any float dtype) with the k largest inner products per query, best first,
    scanned ADD_BATCH rows at a time."""
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for i in range(0, len(vectors), ADD_BATCH):
        block = np.ascontiguousarray(vectors[i : i + ADD_BATCH], dtype=np.float32)
        s, r = faiss.knn(queries, block, min(k, len(block)), faiss.METRIC_INNER_PRODUCT)
        best_s, best_i = np.hstack([best_s, s]), np.hstack([best_i, r + i])
        keep = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def tuning_queries(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """TUNE_QUERIES stored vectors, each turned by a random orthogonal direction to cosine QUERY_COSINE."""
    picked = vectors[rng.choice(len(vectors), min(len(vectors), TUNE_QUERIES), replace=False)].astype(np.float32)
    noise = rng.standard_normal(picked.shape).astype(np.float32)
    noise -= np.sum(noise * picked, axis=1, keepdims=True) * picked  # orthogonal to the vector
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    sine = math.sqrt(1 - QUERY_COSINE**2)
    return np.ascontiguousarray(QUERY_COSINE * picked + sine * noise, dtype=np.float32)


def nprobe_for(index: Any, k: int) -> int:
    """The tuned nprobe (for the top 10), raised with sqrt(k / 10) for deeper lists: the 100th
    neighbour lies in more lists than the 10th."""
    ivf = faiss.extract_index_ivf(index)
    return int(min(ivf.nlist, ivf.nprobe * math.ceil(math.sqrt(max(k, 10) / 10))))


def stored_ids(index: Any) -> np.ndarray:
    """Every id in the inverted lists."""
    invlists = faiss.extract_index_ivf(index).invlists
    parts = []
    for list_no in range(invlists.nlist):
        size = invlists.list_size(list_no)
        if size:
            parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def search_subset(index: Any, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Search only `allowed` ids (a date filter): exactly when they are few, else IVF with more probes.

    IVF with its usual nprobe would find almost nothing when the filter keeps 1% of the vectors,
    so the probes grow with the share filtered out.
    """
    ivf = faiss.extract_index_ivf(index)
    if len(allowed) <= SUBSET_EXACT_MAX:
        try:
            vectors = index.reconstruct_batch(allowed)
        except RuntimeError:  # an allowed id that is not stored: fall through to the IVF path
            pass
        else:
            return _exact(vectors, allowed, queries, k)
    share = max(len(allowed), 1) / max(index.ntotal, 1)
    nprobe = min(ivf.nlist, int(nprobe_for(index, k) / min(1.0, share)) + 1)
    params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(allowed), nprobe=nprobe)
    return index.search(queries, k, params=params)


def _exact(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors.T
    k_found = min(k, len(ids))
    top = np.argsort(-scores, axis=1)[:, :k_found]
    out_scores = np.full((len(queries), k), -np.inf, np.float32)
    out_ids = np.full((len(queries), k), -1, np.int64)
    out_scores[:, :k_found] = np.take_along_axis(scores, top, axis=1)
    out_ids[:, :k_found] = ids[top]
    return out_scores, out_ids


def params(index: Any) -> dict[str, object]:
    """Build parameters worth writing down: lists, probes, PQ bytes."""
    if kind_of(index) == "flat":
        return {}
    ivf = faiss.extract_index_ivf(index)
    out: dict[str, object] = {"nlist": ivf.nlist, "nprobe": ivf.nprobe, "target_recall_at_10": TARGET_RECALL}
    if isinstance(index, faiss.IndexIVFPQ):
        out["pq_bytes"] = index.pq.M
    return out


def prepare(index: Any) -> None:
    """After loading: make sure ids can be looked up and removed through the hash-table map."""
    ivf = faiss.extract_index_ivf(index)
    if ivf.direct_map.type != faiss.DirectMap.Hashtable:
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
