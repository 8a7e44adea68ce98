"""int8 passage batches on VNNI / AMX-INT8: PackedBert's forward with three of its four linears in int8.

Why these three, and how (bench/bench_int8.py, docs/benchmarks/speed.md):
- Weights are int8 with one scale per output channel. Activations are int8 with one scale per
  tensor, which oneDNN's quantised linear (`onednn::qlinear_pointwise`) runs with the bias, GELU
  and the residual add fused; per-tensor scales alone lose the few channels BERT's activations
  carry far above the rest, so SmoothQuant first moves each input channel's range into the weights
  (alpha 0.7). Together: cosine 0.9992 to fp32 on news passages, nDCG@10 unchanged.
- The feed-forward output stays bf16: its input is GELU's output, whose outliers one scale a tensor
  cannot hold (cosine 0.988 with it in int8).
- Queries stay bf16 (PackedBert): a 15-token input is faster there (3.7 against 4.3 ms), since
  quantising costs more than it saves on so few rows.
- An activation's scale is its batch's largest magnitude (after smoothing), so nothing is ever
  clipped; the price is that a passage's vector depends a little on what shares its batch (cosine
  0.999 between a passage encoded alone and in a batch; bf16: 0.99997). Scales fixed from a
  calibration text were tried: news passages exceeded them in most batches (docs/benchmarks/speed.md).
- The smoothing factors need each input channel's range: the bf16 forward runs once over a fixed
  calibration text (CALIBRATION) when the int8 model is first built.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from embeddings.packed import Linear, PackedBert

ALPHA = 0.7  # SmoothQuant's migration strength: cosine to fp32 0.9987 at 0.5, 0.9992 at 0.7, 0.9943 without

# Calibration: plain prose of the kind people index (news, reports, notes), written for this file.
# Which channels run large is a property of the model, not of these words; the text only has to
# be ordinary English of ordinary lengths.
CALIBRATION = (
    "The city council voted on Tuesday to extend the night bus service until the end of March, "
    "after a survey found that nearly a third of shift workers had no other way home.",
    "Shares in the shipping company fell 4.2 per cent in early trading in London, wiping about "
    "£310 million off its market value, as fuel costs rose for the third quarter running.",
    '"We were not told anything until the water reached the second floor," said Maria Alves, 54, '
    "who has lived on the street since 1998. Officials said warnings went out at 2:15 a.m.",
    "The study followed 12,400 adults for eleven years and found no link between the supplement "
    "and heart disease, contradicting two smaller trials published in 2019.",
    "Negotiators from both sides met in Geneva for a fourth round of talks, but a spokesman for "
    "the delegation said there was no agreement yet on the timetable for elections.",
    "The museum will reopen in June with a new wing devoted to textiles from West Africa, "
    "including more than 600 pieces donated by a private collector in Lisbon.",
    "Police said the driver, a 31-year-old man from Leeds, had been arrested on suspicion of "
    "dangerous driving and remained in custody on Saturday night.",
    "Inflation eased to 3.1% in October from 3.6% a month earlier, the statistics office said, "
    "helped by lower prices for petrol, airfares and second-hand cars.",
    "In the second half the visitors pressed higher, and their captain headed in a corner in the "
    "78th minute to level the score before a late penalty decided the match.",
    "The ministry denied reports that the programme would be cut, calling them speculation, and "
    "said funding for the next two years had already been approved by parliament.",
    "Researchers at the university have built a sensor that detects traces of lead in tap water "
    "within minutes, using a paper strip that changes colour.",
    "After three days of heavy rain, rivers across the region burst their banks; about 2,000 "
    "people were moved to schools and sports halls, and several roads remain closed.",
    "The company said it would hire 1,500 engineers over the next year, mostly for its data "
    "centres in Ireland and the Netherlands, and expand its office in Singapore.",
    "Critics say the new rules give landlords too much power to end tenancies, while supporters "
    "argue they will bring more rental homes onto the market.",
    "Minutes of the meeting, released on Wednesday, show that two board members wanted a larger "
    "rate rise and warned that wage growth could keep prices high into next year.",
    "The film, shot over six weeks on a small island off the coast of Norway, follows a "
    "lighthouse keeper who finds a stranger washed up on the rocks.",
    "Q: When does the offer end? A: The discount applies to orders placed before 30 November; "
    "delivery is free for orders over $50 within the mainland.",
    "Doctors advise anyone with a fever above 38 °C, a persistent cough or shortness of breath to "
    "stay at home and call the helpline rather than visit a surgery.",
    "The ruling party lost its majority in the upper house, and the prime minister said he would "
    "seek support from smaller parties to pass the budget.",
    "Firefighters brought the blaze under control shortly after midnight; no one was hurt, but "
    "the warehouse and about forty tonnes of stored grain were destroyed.",
    "Exports to Asia grew by 7 per cent last year, led by machinery and pharmaceuticals, while "
    "sales to Europe were flat for the first time since 2015.",
    "Volunteers planted 4,000 trees along the river on Sunday, part of a plan to cool the town "
    "centre in summer and reduce flooding downstream.",
    "The author's third novel, set in a Cairo apartment block during a single hot August, was "
    "shortlisted for the prize alongside five debut writers.",
    "Local elections will be held on 4 May. Polling stations open at 7 a.m. and close at 10 p.m.; "
    "voters must bring photographic identification.",
)


def calibration_texts() -> list[list[str]]:
    """CALIBRATION as batches of the lengths passages have: the sentences alone, in fours, in eights
    (activations grow with the length of the input: attention sums over more tokens)."""
    lines = list(CALIBRATION)
    return [[" ".join(lines[i : i + n]) for i in range(0, len(lines), n)] for n in (1, 4, 8)]


def int8_supported() -> bool:
    """True where int8 maths is native (VNNI or AMX) and torch has oneDNN's quantised linear."""
    import torch

    onednn = getattr(torch.ops, "onednn", None)
    try:
        ops = onednn is not None and hasattr(onednn, "qlinear_pointwise") and hasattr(onednn, "qlinear_prepack")
        return bool(ops and (torch.cpu._is_vnni_supported() or torch.cpu._is_amx_tile_supported()))
    except (AttributeError, RuntimeError):
        return False


class _Recorder(Linear):
    """A bf16 linear that keeps the largest magnitude of each input channel it is given (`peak`)."""

    def __init__(self, linear: Linear):
        super().__init__(linear.weight, linear.bias)
        self.peak: Any = None

    def __call__(self, x: Any, post: str = "none", residual: Any | None = None) -> Any:
        import torch

        m = x.detach().float().abs().reshape(-1, x.shape[-1]).amax(0)
        self.peak = m if self.peak is None else torch.maximum(self.peak, m)
        return super().__call__(x, post, residual)


class _Int8Linear:
    """int8 weights (one scale per output channel); the input quantised per call, one scale a tensor.
    With `alpha`, SmoothQuant: input channel j is divided by peak_j ** alpha / max|W_j| ** (1 - alpha)
    and the weights' column j multiplied by it, evening out the channels before the one scale."""

    def __init__(self, weight: Any, bias: Any, peak: Any, alpha: float | None):
        import torch

        w = weight.float()
        self.inverse = None
        if alpha is not None:
            smooth = peak.clamp(min=1e-5) ** alpha / w.abs().amax(0).clamp(min=1e-5) ** (1 - alpha)
            w = w * smooth[None, :]
            self.inverse = (1 / smooth).to(torch.bfloat16)
        self.scale = (w.abs().amax(1) / 127).clamp(min=1e-12)
        q = torch.round(w / self.scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.weight = torch.ops.onednn.qlinear_prepack(q, None)
        self.zero = torch.zeros(w.shape[0], dtype=torch.int64)
        self.bias = bias.float()

    def __call__(self, x: Any, post: str = "none", residual: Any | None = None) -> Any:
        import torch

        shape = x.shape
        x = x.reshape(-1, shape[-1])
        if self.inverse is not None:
            x = x * self.inverse
        scale = float(x.abs().amax()) / 127 or 1.0
        q = (x * (1 / scale)).round_().add_(128).to(torch.uint8)
        args = (q, scale, 128, self.weight, self.scale, self.zero)
        bf16 = torch.bfloat16
        if residual is None:
            y = torch.ops.onednn.qlinear_pointwise(*args, self.bias, 1.0, 0, bf16, post, [], "none" if post == "gelu" else "")
        else:
            other = residual.reshape(-1, residual.shape[-1])
            fused = torch.ops.onednn.qlinear_pointwise.binary
            y = fused(*args, other, self.bias, 1.0, 0, bf16, 1.0, 0, "sum", 1.0, "none", [], "")
        return y.reshape(*shape[:-1], -1)


LINEARS = ("qkv", "out", "up", "down")  # a layer's four: Q/K/V, attention output, FFN in, FFN out
INT8_LINEARS = ("qkv", "out", "up")


def int8_bert(
    packed: PackedBert,
    bert: Any,
    tokenize: Callable[[list[str]], tuple[Any, Any]],
    linears: tuple[str, ...] = INT8_LINEARS,
    alpha: float | None = ALPHA,
) -> PackedBert:
    """A copy of the bf16 `packed` whose `linears` (by default Q/K/V, attention output and FFN-in)
    are int8 (`linears` and `alpha` vary only in bench/bench_int8.py's study). Embeddings, layer
    norms and the other linears are shared, not copied. The weights to quantise come from `bert`,
    the module `packed` was made from; the channel maxima from one bf16 pass over CALIBRATION."""
    import torch

    model = copy.copy(packed)  # with linears that record, on the same weights
    model.layers = [tuple(_Recorder(p) if isinstance(p, Linear) else p for p in layer) for layer in packed.layers]
    with torch.inference_mode():
        for batch in calibration_texts():
            ids, mask = tokenize(batch)
            model(ids, None if bool(mask.all()) else mask.bool())

    def int8(name: str, linear: _Recorder, *modules: Any) -> Linear | _Int8Linear:
        if name not in linears:
            return Linear(linear.weight, linear.bias)
        return _Int8Linear(torch.cat([m.weight.detach() for m in modules]), linear.bias, linear.peak, alpha)

    model.layers = [
        (
            int8("qkv", qkv, layer.attention.self.query, layer.attention.self.key, layer.attention.self.value),
            int8("out", out, layer.attention.output.dense),
            norm1,
            int8("up", up, layer.intermediate.dense),
            int8("down", down, layer.output.dense),
            norm2,
        )
        for layer, (qkv, out, norm1, up, down, norm2) in zip(bert.encoder.layer, model.layers, strict=True)
    ]
    return model
