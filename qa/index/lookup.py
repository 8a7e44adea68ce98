"""What a search asks of every candidate, kept in memory for a published (read-only) catalog:
which document a chunk belongs to, and each document's vector. Reading them from SQLite for
400 candidates cost more than the rest of a search (docs/benchmarks/speed.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from qa.errors import IndexCorrupt


def locate(sorted_ids: np.ndarray, wanted: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """(the wanted ids present in `sorted_ids`, their positions there), in the order wanted."""
    want = np.fromiter(wanted, dtype=np.int64)
    if not len(sorted_ids) or not len(want):
        return want[:0], np.zeros(0, dtype=np.int64)
    at = np.searchsorted(sorted_ids, want).clip(0, len(sorted_ids) - 1)
    found = sorted_ids[at] == want
    return want[found], at[found]


@dataclass(frozen=True)
class Lookup:
    chunk_ids: np.ndarray  # sorted
    chunk_docs: np.ndarray  # document of chunk_ids[i]
    doc_ids: np.ndarray  # sorted; only documents that have a vector
    doc_vectors: np.ndarray  # (len(doc_ids), dim) float32

    @classmethod
    def load(cls, db: sqlite3.Connection, path: object) -> Lookup:
        pairs = np.array(db.execute("SELECT id, doc_id FROM chunks ORDER BY id").fetchall(), dtype=np.int64).reshape(-1, 2)
        ids: list[int] = []
        blobs: list[bytes] = []
        for doc_id, blob in db.execute("SELECT id, vector FROM documents WHERE vector IS NOT NULL ORDER BY id"):
            ids.append(int(doc_id))
            blobs.append(blob)
        sizes = {len(b) for b in blobs}
        if len(sizes) > 1 or (sizes and next(iter(sizes)) % 4):
            raise IndexCorrupt(f"{path}: damaged document vectors — run: qa index FOLDER")
        dim = next(iter(sizes)) // 4 if sizes else 0
        vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim)
        return cls(pairs[:, 0].copy(), pairs[:, 1].copy(), np.array(ids, dtype=np.int64), vectors)

    def documents_of(self, chunk_ids: Iterable[int]) -> dict[int, int]:
        """chunk id -> document id, for the chunk ids that exist."""
        ids, at = locate(self.chunk_ids, chunk_ids)
        return dict(zip(ids.tolist(), self.chunk_docs[at].tolist(), strict=True))

    def cosines(self, query: np.ndarray, doc_ids: Iterable[int]) -> dict[int, float]:
        """document id -> cosine of `query` to the document's vector, for the documents that have one."""
        if self.doc_vectors.shape[1] != query.shape[-1]:
            return {}
        ids, at = locate(self.doc_ids, doc_ids)
        if not len(ids):
            return {}
        return dict(zip(ids.tolist(), (self.doc_vectors[at] @ query).tolist(), strict=True))
