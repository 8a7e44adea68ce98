"""FAISS index over normalised vectors, addressed by the caller's int64 ids; its type follows its size.

    vectors            index                         why
    <= flat_max(dim)   IDMap2(float16 flat)          exact scores; from 32k vectors a 4-bit screen picks the candidates
    >  flat_max(dim)   IVF over float16 codes        nprobe tuned at build for recall@10 >= 0.95
    won't fit memory   IVFPQ (48 bytes a vector)     approximate, ~32x smaller

IVF rather than HNSW: IVF removes by id in place (HNSW cannot remove at all), builds in seconds
rather than minutes at 1M vectors, and meets the 2 ms target at 1M with the tuned nprobe
(figures in docs/benchmarks/speed.md). Inner product on L2-normalised vectors is cosine similarity.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np

from embeddings import ivf, screen
from embeddings.screen import Screen

faiss: Any = _faiss  # FAISS's type stubs miss much of its SWIG API (DirectMap, search parameters)

# Exact search stores float16 (a cosine moves by ~1e-5). FAISS scans those codes for one question
# on one core at memory speed whatever the threads: 12.4 ms at the full news index's 148k vectors of
# 384 dimensions (faiss-cpu 1.15.1). From 32k vectors a screen of 4-bit codes picks 8k candidates
# that the float16 codes then score: 1.6-2.5 ms there, the same results (embeddings/screen.py,
# docs/benchmarks/speed.md). IVF as tuned reads less but reaches recall@10 0.85 on detail questions
# against sentence vectors, and raising that to 0.95 costs more than the screened scan. So: exact
# while the float16 codes take at most FLAT_MAX_BYTES (175k vectors of 384 dimensions), IVF beyond.
FLAT_MAX_BYTES = 128 << 20


def flat_max(dim: int) -> int:
    """The most vectors of `dim` float16 values an exact index holds."""
    return FLAT_MAX_BYTES // (2 * dim)


def flat_index(dim: int) -> Any:
    """An empty exact index: inner product over float16 codes, addressed by the caller's ids."""
    return faiss.IndexIDMap2(faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT))


class VectorIndexError(ValueError):
    """A vector index file is missing, truncated or not a FAISS index."""


class VectorIndex:
    """Vectors by id: add, remove, search, save. Picks flat / IVF / IVF-PQ from its size on add."""

    def __init__(self, dim: int, index: Any = None):
        self.dim = dim
        self._index = index if index is not None else flat_index(dim)
        self._ids: np.ndarray | None = None  # sorted stored ids, for `stored`; dropped on any change
        self._screen: Screen | None = None  # candidates for the exact index (embeddings/screen.py); dropped on any change
        self._screen_lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """'flat', 'ivf' or 'ivfpq'."""
        return ivf.kind_of(self._index)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        self._ids, self._screen = None, None
        wanted = ivf.kind_for(len(self) + len(ids), self.dim, flat_max(self.dim))
        if wanted != self.kind or ivf.needs_retrain(self._index, len(self) + len(ids)):
            self._rebuild(wanted, ids, vectors)
        else:
            self._index.add_with_ids(vectors, ids)

    def _rebuild(self, kind: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """A new index of `kind` holding what is stored now plus the new vectors."""
        old_ids, old_vectors = self.items()
        all_ids = np.concatenate([old_ids, ids])
        all_vectors = np.concatenate([old_vectors, vectors]) if len(old_ids) else vectors
        if kind == "flat":
            index = flat_index(self.dim)
            index.add_with_ids(all_vectors, all_ids)
        else:
            index = ivf.build(all_ids, all_vectors, pq=kind == "ivfpq")
        self._index = index

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) stored; IVF-PQ gives its approximations."""
        if len(self) == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        ids = self._stored_ids()
        if self.kind == "flat":
            return ids, self._index.index.reconstruct_n(0, len(self))
        return ids, self._index.reconstruct_batch(ids)

    def _stored_ids(self) -> np.ndarray:
        """Every id stored, in storage order (flat: the id map; IVF: its inverted lists)."""
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ivf.stored_ids(self._index)

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0 or len(self) == 0:
            return 0
        self._ids, self._screen = None, None
        return int(self._index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def stored(self, ids: np.ndarray) -> np.ndarray:
        """Those of `ids` that are in the index (sorted)."""
        if self._ids is None:
            self._ids = np.sort(self._stored_ids())  # ids only: no vector is read back
        wanted = np.unique(np.asarray(ids, dtype=np.int64))
        return wanted[np.isin(wanted, self._ids, assume_unique=True)]

    def reconstruct(self, id_: int) -> np.ndarray:
        return np.asarray(self._index.reconstruct(int(id_)), dtype=np.float32)

    def reconstruct_many(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these ids, one row each, in one call (a call each costs ~15 µs)."""
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64)), dtype=np.float32)

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; ids are -1 where fewer than k exist.

        One query runs on one FAISS thread (threads cost more than they save at this size);
        a batch uses every core.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        k = max(1, min(k, len(self)))
        faiss.omp_set_num_threads(1 if len(queries) == 1 else os.cpu_count() or 1)
        if self.kind != "flat":
            if allowed_ids is not None:
                return ivf.search_subset(self._index, queries, k, np.asarray(allowed_ids, dtype=np.int64))
            return self._index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=ivf.nprobe_for(self._index, k)))
        if allowed_ids is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64)))
            return self._index.search(queries, k, params=params)  # only the allowed ids' codes are scored
        found = self._screened()
        return found.search(queries, k) if found is not None else self._index.search(queries, k)

    def warm(self) -> None:
        """Build what the first search would otherwise wait for (the exact index's screen: ~2 s at 148k vectors)."""
        self._screened()

    def _screened(self) -> Screen | None:
        """The exact index's screen when it pays, built by the first search after a change (searches may run in threads)."""
        if self.kind != "flat" or not screen.usable(self._index):
            return None
        with self._screen_lock:
            if self._screen is None:
                self._screen = Screen(self._index, self._stored_ids())
            return self._screen

    def metadata(self) -> dict[str, object]:
        """Build metadata, saved beside the index as JSON for people (the FAISS file is self-contained)."""
        return {"dim": self.dim, "count": len(self), "kind": self.kind, **ivf.params(self._index), "faiss": faiss.__version__}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: a temporary file in the same folder, fsync, then rename."""
        path = Path(path)
        # Serialised here and written by Python, not by faiss.write_index: a full disk is then an
        # OSError naming ENOSPC, not a RuntimeError from FAISS's C++.
        data = faiss.serialize_index(self._index)
        _write_atomic(path, lambda tmp: Path(tmp).write_bytes(memoryview(data)))
        meta = json.dumps(self.metadata(), indent=2).encode()
        _write_atomic(path.with_suffix(".json"), lambda tmp: Path(tmp).write_bytes(meta))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VectorIndex:
        path = Path(path)
        if not path.is_file():
            raise VectorIndexError(f"{path}: no such vector index file")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise VectorIndexError(f"{path}: not a readable FAISS index ({str(exc).splitlines()[0]})") from exc
        if ivf.kind_of(index) != "flat":
            ivf.prepare(index)
        return cls(index.d, index)


def _write_atomic(path: Path, write: Callable[[str], object]) -> None:
    """`write(tmp)` fills a temporary file beside `path`; fsync, then rename over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes 0600
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
