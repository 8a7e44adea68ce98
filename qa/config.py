"""Named defaults a user may want to know or change, in one place. Environment variables are read
here and nowhere else, and checked here: a bad value is a ConfigError naming it and the fix.
Tuning constants live beside the code they tune (chunk sizes in qa.ingest.chunking, BM25 in
qa.index.lexicon, candidate depths in qa.search.retrieve).
"""

from __future__ import annotations

import os
from pathlib import Path

from qa.errors import ConfigError

DEFAULT_K = 5  # passages a question gets
# The most passages one call may ask for: bounds the work of one request (the chat's slider stops at
# 20; qa eval asks for 200 passages a query before it folds them into documents).
MAX_K = 1000
MODES = ("hybrid", "dense", "keyword")  # the first is the default
INDEX_DIR_NAME = ".qa-index"
SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
# Text, Markdown, HTML: 16 MiB is ~33k passages, ~15 min of encoding on 2 cores; a 50 MB text file
# (~100k passages, ~45 min) is a log or a dump, skipped with a reason (docs/benchmarks/integrity.md).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_PDF_BYTES = 64 * 1024 * 1024  # PDF and Word: their bytes are mostly images and fonts, not text
PRECISIONS = ("auto", "fp32", "bf16", "int8")


def index_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The index directory: the explicit one, else $QA_INDEX, else ./.qa-index."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("QA_INDEX") or INDEX_DIR_NAME)


def model_path() -> str | None:
    """An explicit model path from $QA_MODEL, or None for the packaged MiniLM."""
    return os.environ.get("QA_MODEL") or None


def precision() -> str:
    """Encoder precision: $QA_PRECISION (auto, fp32, bf16, int8), default auto (embeddings.Encoder)."""
    value = os.environ.get("QA_PRECISION", "auto").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise ConfigError(f"QA_PRECISION={value!r} is not one of {', '.join(PRECISIONS)} — set one of them, or unset it")
    return value


def query_threads() -> int:
    """Threads a lone query may use: $QA_QUERY_THREADS, default 2 (used only while faster than one:
    embeddings/threads.py); 1 keeps every query on one thread."""
    raw = os.environ.get("QA_QUERY_THREADS", "2")
    try:
        return max(1, int(raw))
    except ValueError:
        raise ConfigError(f"QA_QUERY_THREADS={raw!r} is not a whole number — set it to 1 or 2, or unset it") from None


def auth() -> str | None:
    """A chat login as user:password from $QA_AUTH, or None."""
    return os.environ.get("QA_AUTH") or None


MIN_TOKEN_CHARS = 16  # a guessable token is no lock; secrets.token_urlsafe() gives 43


def token(explicit: str | None = None) -> str | None:
    """The bearer token programs send to the REST API and MCP: the explicit one (--token), else
    $QA_TOKEN, else None. ConfigError for one that is short or not printable ASCII (HTTP headers
    carry ASCII only)."""
    value = explicit or os.environ.get("QA_TOKEN") or None
    if value is None:
        return None
    where = "--token" if explicit else "QA_TOKEN"
    make = "make one with: python -c 'import secrets; print(secrets.token_urlsafe())'"
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise ConfigError(f"{where} holds spaces or characters other than printable ASCII — {make}")
    if len(value) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{where} is {len(value)} characters, fewer than {MIN_TOKEN_CHARS} — {make}")
    return value


def cache_dir() -> Path:
    """Where downloaded evaluation data is kept: $XDG_CACHE_HOME/qa, else ~/.cache/qa."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


def bench_dir() -> Path:
    """Where benchmarks keep their indexes and corpora: $QA_BENCH_DIR, else /tmp/qa-bench."""
    return Path(os.environ.get("QA_BENCH_DIR") or "/tmp/qa-bench")
