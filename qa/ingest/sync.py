"""Bring an index in line with a folder: new, changed and removed files; encode only new texts."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings import VectorIndex
from embeddings.encoder import Span
from qa.errors import DocumentError
from qa.index.catalog import Catalog, FileState
from qa.index.slots import all_slots, sentence_spans, vector_ids
from qa.index.store import FORMAT_VERSION, Store
from qa.index.vector_cache import VectorCache
from qa.ingest.chunking import CountTokens, chunk_document, settings
from qa.ingest.loaders import body_start, load_document
from qa.ingest.scan import OUTSIDE, relative_name, scan
from qa.types import Document, Skipped, SyncReport

Progress = Callable[[str, int, int], None]  # (stage, done, total); each stage first reports done 0 as it starts
ENCODE_BATCH = 256


class PassageEncoder(Protocol):
    """What sync needs of an encoder: the local Encoder, or RayEncoder for a cluster."""

    @property
    def model_name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]]) -> list[np.ndarray]: ...


@dataclass
class SyncPlan:
    """What a folder scan found, before anything is written."""

    new: list[tuple[Document, os.stat_result]] = field(default_factory=list)
    changed: list[tuple[Document, os.stat_result, int]] = field(default_factory=list)
    touched: list[tuple[int, os.stat_result]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.new or self.changed or self.touched or self.removed)


def plan(folder: Path, known: dict[str, FileState]) -> SyncPlan:
    """Compare the folder with the catalog: size and mtime first, content hash only when they differ."""
    result = SyncPlan()
    present: set[str] = set()
    passed_over: list[tuple[Path, str]] = []
    for path in scan(folder, passed_over):
        name = relative_name(path, folder)
        if not _storable(name):
            result.skipped.append(Skipped(_printable(name), "file name is not valid UTF-8 — rename it"))
            continue
        present.add(name)  # a file that fails to load keeps its last good version in the index
        try:
            st = path.stat()
        except OSError as exc:
            result.skipped.append(Skipped(name, f"cannot read ({exc.strerror}) — check it exists and is readable"))
            continue
        state = known.get(name)
        if state and state.size == st.st_size and state.mtime_ns == st.st_mtime_ns:
            result.unchanged += 1
            continue
        try:
            doc = load_document(path, folder)
        except DocumentError as exc:
            result.skipped.append(Skipped(name, str(exc).removeprefix(f"{name}: ")))
            continue
        if state is None:
            result.new.append((doc, st))
        elif state.sha256 == doc.sha256:
            result.touched.append((state.doc_id, st))
        else:
            result.changed.append((doc, st, state.doc_id))
    for path, why in passed_over:
        name = relative_name(path, folder) if path != folder else ""
        result.skipped.append(Skipped(_printable(name or "."), why))
        if why.startswith(OUTSIDE):
            continue  # never indexed again, even if an older qa followed the link
        # What cannot be read now (a folder gone unreadable, a link gone stale) keeps its last good version.
        present.update(k for k in known if not name or k == name or k.startswith(name + "/"))
    result.removed = [s.doc_id for name, s in known.items() if name not in present]
    return result


def _storable(name: str) -> bool:
    """False for names holding bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(name: str) -> str:
    return name.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Encoding:
    """How a sync cuts and encodes new passages. The encoder and token counter are asked for only
    when a file needs them, so an unchanged folder never loads the model."""

    encoder: Callable[[], PassageEncoder]
    count_tokens: Callable[[], CountTokens]
    model_name: str
    dim: int
    progress: Progress | None = None


def apply(store: Store, folder: Path, work: SyncPlan, encoding: Encoding, rebuild: bool = False) -> SyncReport:
    """Write a new generation with the plan applied, then publish it; `rebuild` starts it empty.

    The current generation must have been verified (Store.intact) before it is copied from. A write
    that fails (a full disk) removes the half-built generation: its space is freed, and the vectors
    already encoded stay in the vector cache for the next run."""
    current = store.manifest()
    gen = store.new_generation(current, copy=not rebuild)
    try:
        counts = _fill(gen, store, work, encoding, None if rebuild or not current else store.generation_dir(current))
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "chunking": settings(),
            "model": encoding.model_name,
            "dim": encoding.dim,
            "folder": str(folder),
            "documents": counts[0],
            "chunks": counts[1],
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        store.publish(gen, manifest)
    except BaseException:
        if store.manifest_generation() != gen.name:
            shutil.rmtree(gen, ignore_errors=True)
        raise
    cache = VectorCache(store.root / "vector-cache.sqlite", encoding.dim)
    cache.prune(gen / "catalog.sqlite")
    cache.close()
    encoded, reused = counts[2], counts[3]
    return SyncReport(
        added=len(work.new), changed=len(work.changed), removed=len(work.removed), unchanged=work.unchanged + len(work.touched),
        chunks_encoded=encoded, chunks_reused=reused, skipped=tuple(work.skipped),
    )  # fmt: skip


def _fill(gen: Path, store: Store, work: SyncPlan, encoding: Encoding, previous: Path | None) -> tuple[int, int, int, int]:
    """The new generation's catalog (copied from `previous`, if any) and vectors with the plan applied:
    (documents, chunks, passages encoded, passages reused)."""
    catalog = Catalog(gen / "catalog.sqlite")
    vectors = VectorIndex.load(previous / "vectors.faiss") if previous else VectorIndex(encoding.dim)
    for doc_id in work.removed + [doc_id for _, _, doc_id in work.changed]:
        vectors.remove(all_slots(catalog.remove_document(doc_id)))
    for doc_id, st in work.touched:
        catalog.touch(doc_id, st.st_size, st.st_mtime_ns)
    rows: list[tuple[int, str, str]] = []
    hashes_of: dict[int, list[str]] = {}  # document id -> its chunks' text hashes
    docs = [(d, st) for d, st in work.new] + [(d, st) for d, st, _ in work.changed]
    if encoding.progress and docs:
        encoding.progress("chunk", 0, len(docs))  # the stage starts: a bar times its rate from here
    for i, (doc, st) in enumerate(docs):
        chunks = chunk_document(doc, encoding.count_tokens(), body_start(doc))
        doc_id, doc_rows = catalog.add_document(doc, st.st_size, st.st_mtime_ns, chunks)
        rows.extend(doc_rows)
        hashes_of[doc_id] = [h for _, h, _ in doc_rows]
        if encoding.progress:
            encoding.progress("chunk", i + 1, len(docs))
    encoded, reused, by_hash = _embed(store, rows, vectors, encoding)
    catalog.set_document_vectors({d: document_vector([by_hash[h][0] for h in hs]) for d, hs in hashes_of.items() if hs})
    catalog.commit()
    vectors.save(gen / "vectors.faiss")
    n_docs, n_chunks = catalog.counts()
    catalog.close()
    return n_docs, n_chunks, encoded, reused


def _embed(
    store: Store, rows: list[tuple[int, str, str]], vectors: VectorIndex, encoding: Encoding
) -> tuple[int, int, dict[str, np.ndarray]]:
    """Add the vectors of every new chunk (its own, its sentences'), encoding only texts the cache
    has never seen; returns (encoded, reused, vectors of each text hash)."""
    if not rows:
        return 0, 0, {}
    cache = VectorCache(store.root / "vector-cache.sqlite", encoding.dim)
    hashes = [h for _, h, _ in rows]
    known = cache.get_many(list(set(hashes)))
    todo: dict[str, str] = {h: t for _, h, t in rows if h not in known}
    pending = list(todo.items())
    if pending:
        _encode_into(cache, known, pending, encoding.encoder(), encoding.progress)
    cache.close()
    ids = np.concatenate([vector_ids(i, len(known[h])) for i, h, _ in rows])
    vectors.add(ids, np.concatenate([known[h] for h in hashes]))
    return len(todo), len(rows) - len(todo), known


def document_vector(passages: list[np.ndarray]) -> np.ndarray:
    """A document's vector: the normalised mean of its passage vectors (what it is about as a
    whole, next to its best passage; docs/benchmarks/retrieval.md)."""
    mean: np.ndarray = np.stack(passages).astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def _encode_into(
    cache: VectorCache,
    known: dict[str, np.ndarray],
    pending: list[tuple[str, str]],
    enc: PassageEncoder,
    progress: Progress | None,
) -> None:
    """Encode (hash, text) pairs, with their sentences' vectors, batch by batch, committing each
    batch to the cache as it comes."""
    # Ray pays seconds per call (job start, model load on each worker): it asks for bigger calls.
    step = int(getattr(enc, "texts_per_call", ENCODE_BATCH))
    if progress and pending:
        progress("encode", 0, len(pending))
    for start in range(0, len(pending), step):
        batch = pending[start : start + step]
        texts = [t for _, t in batch]
        # Indexed as the cache keeps them, so a later build from the cache is the same index.
        out = [VectorCache.rounded(v) for v in enc.encode_with_spans(texts, [sentence_spans(t) for t in texts])]
        cache.put_many([h for h, _ in batch], out)  # committed per batch: a crash keeps the work done
        known.update({h: v for (h, _), v in zip(batch, out, strict=True)})
        if progress:
            progress("encode", min(start + step, len(pending)), len(pending))
