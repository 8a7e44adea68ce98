"""Vectors: the sentence-transformers encoder and the FAISS index. Knows nothing of documents."""

from __future__ import annotations

from embeddings.encoder import Encoder
from embeddings.index import VectorIndex, VectorIndexError

__all__ = ["Encoder", "VectorIndex", "VectorIndexError"]
