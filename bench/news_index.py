"""Ingestion of the news articles, files to a saved index, split into load+chunk, encode, index, save;
then re-index of the unchanged folder and of the folder with one file changed.

The stages are timed by wrapping the real calls (the encoder passed to sync, VectorIndex.add and
.save); nothing is replaced. "other" is the rest: catalog writes, vector cache, publish.
Usage: python bench/news_index.py [--articles N] [--index DIR]   (QA_PRECISION picks the encoder)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import BENCH_DIR, NEWS_DIR, news_folder, write_result
from embeddings import VectorIndex
from embeddings.encoder import PACKAGED_MODEL

INDEX_DIR = BENCH_DIR / "index"


def subset_folder(articles: int | None) -> Path:
    """The whole news folder, or a copy of its first `articles` files (by name) beside it."""
    full = news_folder()
    if not articles:
        return full
    folder = NEWS_DIR.parent / f"news-{articles}"
    if not folder.exists():
        folder.mkdir(parents=True)
        for path in sorted(full.glob("*.txt"), key=lambda p: int(p.stem))[:articles]:
            shutil.copy2(path, folder / path.name)
    return folder


class Stopwatch:
    """Accumulates seconds per stage; `first_encode` marks the end of load+chunk."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"encode": 0.0, "index": 0.0, "save": 0.0}
        self.first_encode: float | None = None

    def wrap(self, stage: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if stage == "encode" and self.first_encode is None:
                self.first_encode = time.perf_counter()
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        return timed


class TimedEncoder:
    def __init__(self, encoder: Any, watch: Stopwatch):
        self.model_name, self.dim = encoder.model_name, encoder.dim
        self.encode_passages = watch.wrap("encode", encoder.encode_passages)
        self.encode_with_spans = watch.wrap("encode", encoder.encode_with_spans)


class StubEncoder:
    """Random unit vectors, for --stub-encoder: times everything but the model at full scale.

    It claims the packaged model's name so the library's tokenizer and model check stay as they
    are; the index it builds is deleted at the end of the run.
    """

    model_name, dim, precision = PACKAGED_MODEL, 384, "none (random vectors)"

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        rng = np.random.default_rng(len(texts))
        x = rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
        rng = np.random.default_rng(len(texts))
        out = []
        for s in spans:
            x = rng.standard_normal((1 + len(s), self.dim), dtype=np.float32)
            out.append(x / np.linalg.norm(x, axis=1, keepdims=True))
        return out


def timed_sync(lib: Any, folder: Path, stub: bool = False) -> dict[str, Any]:
    watch = Stopwatch()
    add, save = VectorIndex.add, VectorIndex.save
    VectorIndex.add = watch.wrap("index", add)  # type: ignore[method-assign]
    VectorIndex.save = watch.wrap("save", save)  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        report = lib.sync(folder, encoder=TimedEncoder(StubEncoder() if stub else lib.encoder, watch))
        total = time.perf_counter() - start
    finally:
        VectorIndex.add, VectorIndex.save = add, save  # type: ignore[method-assign]
    chunks = report.chunks_encoded + report.chunks_reused
    stages = {"load_chunk": (watch.first_encode or start + total) - start, **watch.seconds}
    stages["other"] = total - sum(stages.values())
    return {
        "seconds": round(total, 3),
        "stages_s": {k: round(v, 3) for k, v in stages.items()},
        "passages": chunks,
        "passages_encoded": report.chunks_encoded,
        "passages_per_s": round(chunks / total, 1) if chunks else None,
        "encode_passages_per_s": round(report.chunks_encoded / watch.seconds["encode"], 1) if report.chunks_encoded else None,
        "files": {"added": report.added, "changed": report.changed, "unchanged": report.unchanged},
    }


def disk_bytes(index_dir: Path) -> dict[str, int]:
    """Bytes of what a reader needs: manifest, current generation, vector cache (old generations left out)."""
    import json

    gen = index_dir / json.loads((index_dir / "manifest.json").read_text())["generation"]
    files = [p for p in [*index_dir.glob("*"), *gen.glob("*")] if p.is_file() and p.name != "lock"]
    faiss_files = [p for p in files if p.suffix == ".faiss"]
    return {"total": sum(p.stat().st_size for p in files), "faiss": sum(p.stat().st_size for p in faiss_files)}


def real_vectors(index_dir: Path = INDEX_DIR) -> np.ndarray:
    """Every passage vector of a built news index."""
    from qa.library import Library

    lib = Library.open(index_dir)
    try:
        return lib.view().vectors.items()[1]
    finally:
        lib.close()


def run(articles: int | None, index_dir: Path, stub: bool = False) -> dict[str, Any]:
    """Fresh build, unchanged re-index, one-file-changed re-index; in one process."""
    from qa.library import Library

    folder = subset_folder(articles)
    shutil.rmtree(index_dir, ignore_errors=True)
    lib = Library.open(index_dir)
    encoder = StubEncoder() if stub else lib.encoder  # the model loads here, outside the timings, as a server has it
    result: dict[str, Any] = {"folder": str(folder), "files": len(list(folder.glob("*.txt"))), "precision": encoder.precision}
    result["fresh"] = timed_sync(lib, folder, stub)
    result["unchanged"] = timed_sync(lib, folder, stub)
    victim = sorted(folder.glob("*.txt"))[0]
    original = victim.read_bytes()
    try:
        victim.write_bytes(original + b"\n\nA sentence added by the benchmark to change this file.\n")
        result["one_changed"] = timed_sync(lib, folder, stub)
    finally:
        victim.write_bytes(original)
    lib.sync(folder, encoder=StubEncoder() if stub else None)  # back to the corpus as written (vectors from the cache)
    lib.close()
    size = disk_bytes(index_dir)
    passages = result["fresh"]["passages"]
    result["disk"] = {
        **size, "bytes_per_passage": round(size["total"] / passages), "faiss_bytes_per_passage": round(size["faiss"] / passages)
    }  # fmt: skip
    result["index_kind"] = VectorIndex.load(sorted(index_dir.glob("gen-*/vectors.faiss"))[-1]).kind
    if stub:
        shutil.rmtree(index_dir)  # random vectors under the real model's name: never leave it behind
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=None, help="first N articles only (default: all)")
    parser.add_argument("--index", type=Path, default=INDEX_DIR)
    parser.add_argument("--stub-encoder", action="store_true", help="random vectors instead of the model (all but encoding)")
    args = parser.parse_args()
    name = f"ingest-{args.articles or 'all'}{'-stub' if args.stub_encoder else ''}"
    write_result(name, run(args.articles, args.index, args.stub_encoder))


if __name__ == "__main__":
    main()
