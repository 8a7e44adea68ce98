"""BERT's forward for inference on oneDNN-prepacked weights: the fast path of embeddings.Encoder
for BERT models with mean pooling (MiniLM is one). See PackedBert's docstring for why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PackedBert:
    """BERT's forward for inference with every weight reordered once for oneDNN (in the model's dtype).

    Why not the Hugging Face module: on a 15-row input torch's default linear (MKL for fp32, oneDNN
    on the plain layout for bf16) is 1.6-1.9x slower than oneDNN on prepacked weights, and the
    module stack costs ~2 ms of Python a query. Q, K and V are one matrix here and GELU runs inside
    its linear. One headline in bf16, one thread: sentence-transformers 8.1 ms, the HF module with
    packed linears 5.7, this 3.8 (docs/benchmarks/speed.md). Vectors agree with
    sentence-transformers' to cosine >= 0.9999 (tests/test_embeddings.py).
    """

    def __init__(self, weights: Mapping[str, Any], heads: int, eps: float):
        """`weights`: a BertModel's state dict (names as Hugging Face saves them, in the dtype to run:
        a `bert.state_dict()` or a model folder's safetensors); `heads`: attention heads; `eps`: the
        layer norms' epsilon."""
        import torch

        pack = torch.ops.mkldnn._reorder_linear_weight

        def weights_of(*names: str) -> Linear:
            w = torch.cat([weights[f"{n}.weight"].detach() for n in names])
            return Linear(pack(w, 16), torch.cat([weights[f"{n}.bias"].detach() for n in names]))  # 16: rows of a short query

        def norm(name: str) -> tuple[Any, Any, float]:
            return weights[f"{name}.weight"].detach(), weights[f"{name}.bias"].detach(), eps

        self.word = weights["embeddings.word_embeddings.weight"].detach()
        self.position = weights["embeddings.position_embeddings.weight"].detach()
        self.token_type = weights["embeddings.token_type_embeddings.weight"].detach()[0]
        self.norm = norm("embeddings.LayerNorm")
        self.heads = heads
        # Per layer (qkv, out, norm1, up, down, norm2); a linear is a `Linear` or anything called
        # like one (embeddings/int8.py swaps some for int8 ones).
        self.layers: list[tuple[Any, ...]] = []
        layer = 0
        while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
            at = f"encoder.layer.{layer}"
            qkv = (f"{at}.attention.self.query", f"{at}.attention.self.key", f"{at}.attention.self.value")
            self.layers.append(
                (
                    weights_of(*qkv),
                    weights_of(f"{at}.attention.output.dense"),
                    norm(f"{at}.attention.output.LayerNorm"),
                    weights_of(f"{at}.intermediate.dense"),
                    weights_of(f"{at}.output.dense"),
                    norm(f"{at}.output.LayerNorm"),
                )
            )
            layer += 1

    @staticmethod
    def fits(config: Mapping[str, Any], pooling_mean: bool, modules: int) -> bool:
        """Whether a model of this BERT `config` (config.json's fields), pooled by the mean of its
        tokens or not, in `modules` sentence-transformers modules, runs here."""
        import torch

        return (
            config.get("model_type", "bert") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and pooling_mean
            and modules <= 3
            and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        )

    @classmethod
    def for_model(cls, model: Any) -> PackedBert | None:
        """A PackedBert for a [BertModel, mean Pooling, (Normalize)] sentence-transformers model, else None."""
        modules = list(model)
        bert: Any = getattr(modules[0], "auto_model", None)
        config = getattr(bert, "config", None)
        if type(bert).__name__ != "BertModel" or config is None:
            return None
        fields = {"hidden_act": getattr(config, "hidden_act", None),
                  "position_embedding_type": getattr(config, "position_embedding_type", "absolute")}  # fmt: skip
        if not cls.fits(fields, getattr(modules[1], "pooling_mode", None) == "mean", len(modules)):
            return None
        return cls(bert.state_dict(), int(config.num_attention_heads), float(config.layer_norm_eps))

    def __call__(self, ids: Any, mask: Any | None) -> Any:
        """Token vectors (batch, tokens, dim) in the weights' dtype; `mask` (bool, True = token) or None."""
        import torch.nn.functional as F

        batch, n = ids.shape
        dim = self.word.shape[1]
        # The embeddings summed in Hugging Face's order: in bf16 every sum rounds.
        x = F.layer_norm(self.word[ids] + self.token_type + self.position[:n], (dim,), *self.norm)
        attend = None if mask is None else mask[:, None, None, :]
        for qkv, out, norm1, up, down, norm2 in self.layers:
            q, k, v = qkv(x).view(batch, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(batch, n, dim)
            x = F.layer_norm(out(a, residual=x), (dim,), *norm1)
            x = F.layer_norm(down(up(x, "gelu"), residual=x), (dim,), *norm2)
        return x


class Linear:
    """A linear layer on oneDNN-prepacked weights, GELU fused when asked, the residual added after."""

    def __init__(self, weight: Any, bias: Any):
        import torch

        self.weight, self.bias = weight, bias
        self._op = torch.ops.mkldnn._linear_pointwise

    def __call__(self, x: Any, post: str = "none", residual: Any | None = None) -> Any:
        y = self._op(x, self.weight, self.bias, post, [], "none" if post == "gelu" else "")
        return y if residual is None else y + residual


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
