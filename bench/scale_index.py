"""An index of any size made from a real one, to time retrieve() at 10k, 100k and 1M passages.

    python bench/scale_index.py --source INDEX --passages 1000000 --out DIR

Encoding a million passages takes ~3 hours on 2 cores, so the big indexes are derived from a real
one (the full news index: 3,788 articles, 33k passages, 148k vectors) instead:
- at or below the source's size, its first documents, whole, with their passages and vectors;
- above it, every document copied as often as needed. Copy r of a passage replaces each word with
  probability WORD_NOISE by a word drawn from the corpus (so term counts, document frequencies and
  near-duplicate groups vary as in a bigger collection), and each of its vectors (the passage's and
  its sentences') is turned to cosine ~VECTOR_COSINE from the original, then normalised. Copies are
  whole documents ("copy0007/123.txt") with their own citation fields and document vectors.
The catalog is written through qa's own Catalog (term counts, vocabulary, document vectors) and the
vectors through VectorIndex, so the result is an ordinary published index that Library.open reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from embeddings import (
    VectorIndex,
    ivf,
)
from embeddings.index import flat_index, flat_max
from qa.index.catalog import Catalog
from qa.index.lexicon import bag, tokens
from qa.index.slots import SLOTS
from qa.index.store import FORMAT_VERSION, Store
from qa.ingest.chunking import settings
from qa.ingest.sync import document_vector
from qa.text import line_breaks, line_of

DOC_COLUMNS = "id, path, sha256, size, mtime_ns, date, title, text, pages, vector, bag"
CHUNK_COLUMNS = 'id, doc_id, ordinal, start, "end", line_start, line_end, page, text, hash, bag, section'
WORD_NOISE = 0.15
VECTOR_COSINE = 0.93


def source_rows(index: Path) -> tuple[list[tuple], dict[int, list[tuple]], dict[int, tuple[np.ndarray, np.ndarray]], dict]:
    """(documents, chunks by document, vectors by chunk (ids, float16 matrix), manifest) of an index."""
    store = Store(index)
    manifest = store.require()
    gen = store.generation_dir(manifest)
    catalog = Catalog(gen / "catalog.sqlite", readonly=True)
    docs = catalog.db.execute("SELECT id, path, date, title, text FROM documents ORDER BY id").fetchall()
    chunks: dict[int, list[tuple]] = {}
    for row in catalog.db.execute('SELECT id, doc_id, ordinal, text, section FROM chunks ORDER BY doc_id, ordinal'):
        chunks.setdefault(row[1], []).append(row)
    vectors = VectorIndex.load(gen / "vectors.faiss")
    ids, matrix = vectors.items()
    order = np.argsort(ids)
    ids, matrix = ids[order], matrix[order].astype(np.float16)
    owner = ids // SLOTS
    starts = np.searchsorted(owner, np.unique(owner))
    by_chunk = {int(owner[a]): (ids[a:b] % SLOTS, matrix[a:b]) for a, b in zip(starts, [*starts[1:], len(ids)], strict=True)}
    catalog.close()
    return docs, chunks, by_chunk, manifest


class Words:
    """Stemmed terms of space-separated words, each worked out once (qa's own tokens()), and the
    catalog's vocabulary: copies of a passage reuse its words' stems instead of re-reading it."""

    def __init__(self) -> None:
        self.stems: dict[str, list[str]] = {}
        self.ids: dict[str, int] = {}

    def terms(self, words: list[str]) -> list[str]:
        out: list[str] = []
        for w in words:
            stems = self.stems.get(w)
            if stems is None:
                stems = self.stems[w] = tokens(w)
            out.extend(stems)
        return out

    def bag(self, words: list[str]) -> bytes:
        terms = self.terms(words)
        for t in terms:
            self.ids.setdefault(t, len(self.ids) + 1)
        return bag(terms, self.ids)


def mutate(words: list[str], pool: list[str], rng: np.random.Generator) -> list[str]:
    """The words with each replaced, with probability WORD_NOISE, by a word of the corpus."""
    words = list(words)
    hit = np.flatnonzero(rng.random(len(words)) < WORD_NOISE)
    for i, p in zip(hit, rng.integers(0, len(pool), len(hit)), strict=True):
        words[i] = pool[p]
    return words


def turn(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row turned by a random orthogonal direction to cosine VECTOR_COSINE, unit length."""
    v = vectors.astype(np.float32)
    noise = rng.standard_normal(v.shape).astype(np.float32)
    noise -= np.sum(noise * v, axis=1, keepdims=True) * v
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    out = VECTOR_COSINE * v + math.sqrt(1 - VECTOR_COSINE**2) * noise
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float16)


def build(source: Path, passages: int, out: Path, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    docs, chunks, by_chunk, manifest = source_rows(source)
    pool = [w for _, _, _, _, text in docs[:500] for w in text.split(" ")]
    split = {c[0]: c[3].split(" ") for parts in chunks.values() for c in parts}
    rng = np.random.default_rng(seed)
    words = Words()
    store = Store(out)
    gen = store.new_generation(None)
    catalog = Catalog(gen / "catalog.sqlite")
    db = catalog.db
    all_ids: list[np.ndarray] = []
    all_vectors: list[np.ndarray] = []
    doc_id, chunk_id, copy = 0, 0, 0
    while chunk_id < passages:
        doc_rows, chunk_rows = [], []
        for source_doc, path, date, title, _ in docs:
            parts = chunks.get(source_doc, [])
            if not parts or chunk_id >= passages:
                continue
            texts = [split[c[0]] if copy == 0 else mutate(split[c[0]], pool, rng) for c in parts]
            doc_id += 1
            name = f"copy{copy:04d}/{path}" if copy else path
            text, spans = _joined([" ".join(t) for t in texts])
            own = []
            for (a, b, line_a, line_b), t, c in zip(spans, texts, parts, strict=True):
                chunk_id += 1
                slots, vecs = by_chunk[c[0]]
                vecs = vecs if copy == 0 else turn(vecs, rng)
                all_ids.append(chunk_id * SLOTS + slots)
                all_vectors.append(vecs)
                own.append(vecs[0].astype(np.float32))
                ordinal, section = c[2], c[4]
                hash_ = f"{chunk_id:032x}"
                terms = words.bag(t)
                chunk_rows.append((chunk_id, doc_id, ordinal, a, b, line_a, line_b, None, text[a:b], hash_, terms, section))
            vector = document_vector(own).tobytes()
            doc_bag = words.bag(text.split(" "))
            doc_rows.append((doc_id, name, f"scaled-{name}", len(text), 0, date, title, text, "[]", vector, doc_bag))
        db.executemany(f"INSERT INTO documents ({DOC_COLUMNS}) VALUES ({','.join('?' * 11)})", doc_rows)
        db.executemany(f"INSERT INTO chunks ({CHUNK_COLUMNS}) VALUES ({','.join('?' * 12)})", chunk_rows)
        copy += 1
        print(f"copy {copy}: {chunk_id} passages, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    db.executemany("INSERT INTO vocabulary (id, term) VALUES (?, ?)", ((i, t) for t, i in words.ids.items()))
    catalog.commit()
    n_docs, n_chunks = catalog.counts()
    catalog.close()
    ids = np.concatenate(all_ids)
    matrix = np.concatenate(all_vectors)
    del all_vectors
    dim = matrix.shape[1]
    build_started = time.perf_counter()
    if len(ids) <= flat_max(dim):
        index = flat_index(dim)
        index.add_with_ids(matrix.astype(np.float32), ids)
    else:
        index = ivf.build(ids, matrix)
    VectorIndex(dim, index).save(gen / "vectors.faiss")
    faiss_s = time.perf_counter() - build_started
    store.publish(gen, {
        "format_version": FORMAT_VERSION, "chunking": settings(), "model": manifest["model"], "dim": dim,
        "folder": f"{manifest['folder']} (scaled by bench/scale_index.py)", "documents": n_docs, "chunks": n_chunks,
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    return {"passages": n_chunks, "documents": n_docs, "vectors": len(ids), "copies": copy, "faiss_build_s": round(faiss_s, 1),
            "seconds": round(time.perf_counter() - started, 1), "index": str(out)}  # fmt: skip


def _joined(texts: list[str]) -> tuple[str, list[tuple[int, int, int, int]]]:
    """A document whose text is its passages, one blank line apart, and each passage's
    (start, end, first line, last line) in it."""
    text = "\n\n".join(texts)
    breaks = line_breaks(text)
    spans, start = [], 0
    for t in texts:
        end = start + len(t)
        spans.append((start, end, line_of(breaks, start), line_of(breaks, max(start, end - 1))))
        start = end + 2
    return text, spans


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, required=True, help="a published qa index (the full news index)")
    p.add_argument("--passages", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists — give a new folder")
    print(json.dumps(build(args.source, args.passages, args.out, args.seed)))


if __name__ == "__main__":
    main()
