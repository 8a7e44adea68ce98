"""A screen in front of the exact index: candidates from 4-bit codes, scored from the exact codes.

FAISS scans the exact index's float16 codes for one question on one core at memory speed, whatever
the threads: 12.4 ms for the full news index's 148k vectors of 384 dimensions (faiss-cpu 1.15.1),
more when the question's encoding has just pushed them out of the caches. The screen holds each
vector as 4-bit product-quantizer codes, one code for each pair of dimensions (96 bytes a vector,
an eighth of the float16 codes), scanned with SIMD table look-ups (FAISS's fast-scan PQ); the best
`candidates(k)` of them are scored from the float16 codes (FAISS's IndexRefine), so the scores
returned are the exact index's. 1.6 ms a question there. Over the news index, for 1,550 questions
(1,000 headlines, the natural questions, the answer set), the screen's best 3,200 held the exact
top 400 for 99.7% of them and never missed more than one of the 400; the exact top 10 always
(docs/benchmarks/speed.md).

Built from a snapshot of the exact index, in its storage order (position i here is position i
there), for indexes of SCREEN_MIN vectors or more; below that the plain scan is as fast. Any
change to the exact index drops the screen; the next search builds a new one (~2 s at 148k
vectors, mostly encoding the 4-bit codes). A search limited to some ids scans the exact codes of
those ids only, without the screen.
"""

from __future__ import annotations

import os
from typing import Any

import faiss as _faiss
import numpy as np

faiss: Any = _faiss

SCREEN_MIN = 32_768  # vectors; below this an exact scan takes ~2 ms at 384 dimensions
DIMS_PER_CODE = 2  # dimensions per 4-bit code: 192 codes for 384 dimensions
TRAIN_MAX = 16_384  # vectors sampled to train the codebooks (16 centroids a pair of dimensions)
BUILD_BLOCK = 65_536  # vectors decoded to float32 at a time while building
CANDIDATES_PER_RESULT = 8  # the best 8k for k results; the exact top 400 held whole for 99.7% of questions (6: 98.7%, 4: 90.7%)
CANDIDATES_MIN = 1024


def candidates(k: int) -> int:
    """How many screened vectors are scored exactly for k results."""
    return max(CANDIDATES_PER_RESULT * k, CANDIDATES_MIN)


def usable(exact: Any) -> bool:
    """Whether an exact index is large enough, and its dimensions pair up, for a screen to pay."""
    return int(exact.ntotal) >= SCREEN_MIN and int(exact.d) % DIMS_PER_CODE == 0


class Screen:
    """4-bit codes of the exact index's vectors, for picking the candidates its own codes then score."""

    def __init__(self, exact: Any, ids: np.ndarray, seed: int = 1234) -> None:
        """`exact`: an IndexIDMap2 over a flat-codes index (float16 scalar quantizer, or an older float32
        flat); `ids`: its stored ids in storage order."""
        self.exact = exact  # kept: the views and the refine index below point into it
        self.inner = faiss.downcast_index(exact.index)
        n, dim = int(exact.ntotal), int(exact.d)
        self.ids = ids  # position -> id
        codes = faiss.rev_swig_ptr(self.inner.codes.data(), self.inner.codes.size()).reshape(n, self.inner.code_size)
        sample = np.sort(np.random.default_rng(seed).choice(n, min(n, TRAIN_MAX), replace=False))
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # a build is a batch: every core
        try:
            self.codes = faiss.IndexPQFastScan(dim, dim // DIMS_PER_CODE, 4, faiss.METRIC_INNER_PRODUCT)
            self.codes.pq.cp.seed = seed
            self.codes.train(self.inner.sa_decode(codes[sample]))
            for start in range(0, n, BUILD_BLOCK):
                self.codes.add(self.inner.sa_decode(codes[start : start + BUILD_BLOCK]))
        finally:
            faiss.omp_set_num_threads(threads)
        self.refined = faiss.IndexRefine(self.codes, self.inner)  # owns neither

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query, scored as the exact index scores; -1 ids pad short rows."""
        wide = candidates(k)
        if wide >= len(self.ids):
            return self.exact.search(queries, k)  # every vector would be scored anyway
        params = faiss.IndexRefineSearchParameters(k_factor=(wide + 0.5) / k)  # FAISS takes int(k * k_factor)
        scores, positions = self.refined.search(queries, k, params=params)
        return scores, np.where(positions >= 0, self.ids[np.maximum(positions, 0)], -1)
