"""The index directory: a manifest naming the current generation, generation folders, a lock.

    .qa-index/
      manifest.json          format version, model, dimension, counts, folder, generation
      gen-000007/            catalog.sqlite + vectors.faiss, written whole before the manifest names it
      vector-cache.sqlite    text hash -> vector, so no text is ever encoded twice (survives crashes)
      lock                   held by the one writer

A writer builds a new generation beside the current one and switches by replacing manifest.json
atomically, so a reader, or a crash at any moment, only ever sees a complete generation.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from qa import config
from qa.errors import IndexCorrupt, IndexIncompatible, IndexLocked, IndexMissing


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; an index is as readable as its folder
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Store:
    """Paths and transitions of one index directory."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict[str, Any] | None:
        try:
            raw = self.manifest_path.read_text()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            data["generation"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{self.manifest_path}: damaged manifest — delete {self.root} and run: qa index FOLDER") from exc
        return data  # type: ignore[no-any-return]

    def require(self) -> dict[str, Any]:
        manifest = self.manifest()
        if manifest is None:
            raise IndexMissing(f"No index in {self.root}/ — run: qa index FOLDER")
        return manifest

    def check_model(self, manifest: dict[str, Any], model_name: str) -> None:
        if manifest.get("format_version") != config.FORMAT_VERSION:
            raise IndexIncompatible(
                f"{self.root}: index format {manifest.get('format_version')} is not {config.FORMAT_VERSION} — "
                f"delete {self.root} and run: qa index FOLDER"
            )
        if manifest.get("model") != model_name:
            raise IndexIncompatible(
                f"{self.root}: built with model {manifest.get('model')!r}, not {model_name!r} — "
                f"use that model, or delete {self.root} and run: qa index FOLDER"
            )

    def generation_dir(self, manifest: dict[str, Any]) -> Path:
        return self.root / str(manifest["generation"])

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the writer lock; a second writer fails at once instead of corrupting."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IndexLocked(f"{self.root}: another qa index is writing this index — wait for it to finish") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_generation(self, current: dict[str, Any] | None) -> Path:
        """A fresh generation folder holding a copy of the current catalog (if any)."""
        number = int(str(current["generation"]).split("-")[1]) + 1 if current else 1
        gen = self.root / f"gen-{number:06d}"
        if gen.exists():
            shutil.rmtree(gen)  # left over by a run that died before publishing it
        gen.mkdir(parents=True)
        if current:
            src = sqlite3.connect(f"file:{self.generation_dir(current) / 'catalog.sqlite'}?mode=ro", uri=True)
            dst = sqlite3.connect(gen / "catalog.sqlite")
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        return gen

    def publish(self, gen: Path, manifest: dict[str, Any]) -> None:
        """Make `gen` current, then drop generations older than the previous one."""
        previous = self.manifest()
        write_atomic(self.manifest_path, json.dumps({**manifest, "generation": gen.name}, indent=2).encode())
        keep = {gen.name, str(previous["generation"]) if previous else ""}
        self.cleanup(keep)

    def cleanup(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for child in self.root.glob("gen-*"):
            if child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


class VectorCache:
    """Text hash -> vector for every text ever encoded into this index (khoj's idea)."""

    def __init__(self, path: Path, dim: int):
        self.dim = dim
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            for h, blob in self.db.execute(f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})", part):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    out[h] = vec
        return out

    def put_many(self, hashes: list[str], vectors: np.ndarray) -> None:
        rows = [(h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in zip(hashes, vectors, strict=True)]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors (hash, vec) VALUES (?, ?)", rows)

    def prune(self, catalog_path: Path) -> None:
        """Forget vectors no chunk of the published catalog uses."""
        with self.db:
            self.db.execute("ATTACH DATABASE ? AS cat", (str(catalog_path),))
            self.db.execute("DELETE FROM vectors WHERE hash NOT IN (SELECT hash FROM cat.chunks)")
        self.db.execute("DETACH DATABASE cat")

    def close(self) -> None:
        self.db.close()
