"""BERT's forward for inference on oneDNN-prepacked weights: the fast path of embeddings.Encoder
for BERT models with mean pooling (MiniLM is one). See PackedBert's docstring for why.
"""

from __future__ import annotations

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

    def __init__(self, bert: Any):
        import torch

        pack = torch.ops.mkldnn._reorder_linear_weight
        emb, config = bert.embeddings, bert.config

        def weights(*linears: Any) -> Linear:
            w = torch.cat([lin.weight.detach() for lin in linears])
            return Linear(pack(w, 16), torch.cat([lin.bias.detach() for lin in linears]))  # 16: rows of a short query

        def norm(ln: Any) -> tuple[Any, Any, float]:
            return ln.weight.detach(), ln.bias.detach(), float(ln.eps)

        self.word = emb.word_embeddings.weight.detach()
        self.position = emb.position_embeddings.weight.detach()
        self.token_type = emb.token_type_embeddings.weight.detach()[0]
        self.norm = norm(emb.LayerNorm)
        self.heads = int(config.num_attention_heads)
        # Per layer (qkv, out, norm1, up, down, norm2); a linear is a `Linear` or anything called
        # like one (embeddings/int8.py swaps some for int8 ones).
        self.layers: list[tuple[Any, ...]] = [
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
