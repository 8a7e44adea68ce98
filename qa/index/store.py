"""The index directory: a manifest naming the current generation, generation folders, a lock.

    .qa-index/
      manifest.json          format version, model, dimension, counts, folder, generation
      gen-000007/            catalog.sqlite + vectors.faiss, written whole before the manifest names it
      vector-cache.sqlite    text hash -> its vectors (passage, sentences), so no text is ever encoded twice (survives crashes)
      lock                   held by the one writer

A writer builds a new generation beside the current one and switches by replacing manifest.json
atomically, so a reader, or a crash at any moment, only ever sees a complete generation.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexCorrupt, IndexIncompatible, IndexLocked, IndexMissing

# 2: whole-document BM25 and document vectors; 3: in-memory BM25 from stored term counts;
# 4: sentence vectors beside each passage's (qa/index/slots.py); 5: each passage's section path
FORMAT_VERSION = 5
CHECKED = ("catalog.sqlite", "vectors.faiss")  # the generation files the manifest vouches for


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


def file_facts(path: Path) -> dict[str, int]:
    """Size and CRC-32 of a file: enough to catch truncation and damaged bytes, ~1 GB/s."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            crc, size = zlib.crc32(block, crc), size + len(block)
    return {"bytes": size, "crc32": crc}


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (a power cut, not only a kill, keeps the new name)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """Paths and transitions of one index directory."""

    def __init__(self, root: Path):
        self.root = root
        self._read: tuple[tuple[int, int, int], dict[str, Any]] | None = None  # (file identity, manifest)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict[str, Any] | None:
        """The published manifest. Every question asks, to notice another process's publish; a
        publish replaces the file (a new inode), so an unchanged stat means the manifest last read."""
        try:
            st = os.stat(self.manifest_path)
            identity = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._read is not None and self._read[0] == identity:
                return dict(self._read[1])
            raw = self.manifest_path.read_text()
        except FileNotFoundError:
            return None
        data = self._parse(raw)
        self._read = (identity, data)
        return dict(data)

    def _parse(self, raw: str) -> dict[str, Any]:
        try:
            data = json.loads(raw)
            if not re.fullmatch(r"gen-\d{6}", data["generation"]):
                raise ValueError(data["generation"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{self.manifest_path}: damaged manifest — {self.rebuild_hint(None)}") from exc
        return data

    def require(self) -> dict[str, Any]:
        manifest = self.manifest()
        if manifest is None:
            raise IndexMissing(f"No index in {self.root}/ — run: qa index FOLDER")
        return manifest

    @staticmethod
    def outdated(manifest: dict[str, Any], chunking: dict[str, int]) -> bool:
        """True for an index written in another format, or chunked otherwise than `chunking` asks."""
        return manifest.get("format_version") != FORMAT_VERSION or manifest.get("chunking") != chunking

    def check_format(self, manifest: dict[str, Any], chunking: dict[str, int]) -> None:
        if self.outdated(manifest, chunking):
            folder = manifest.get("folder") or "FOLDER"
            raise IndexIncompatible(
                f"{self.root}: index written by another version of qa (format {manifest.get('format_version')}) "
                "or cut into other chunk sizes — "
                f"run: qa index {folder}  (it rebuilds the index, reusing every passage vector already encoded)"
            )

    def check_model(self, manifest: dict[str, Any], model_name: str) -> None:
        if manifest.get("model") != model_name:
            raise IndexIncompatible(
                f"{self.root}: built with model {manifest.get('model')!r}, not {model_name!r} — "
                f"use that model, or delete {self.root} and run: qa index FOLDER"
            )

    def generation_dir(self, manifest: dict[str, Any]) -> Path:
        return self.root / str(manifest["generation"])

    def rebuild_hint(self, manifest: dict[str, Any] | None) -> str:
        """How to rebuild a damaged index: without a manifest the next sync starts a fresh generation,
        and the vector cache (which checks itself) spares the encoding."""
        folder = (manifest or {}).get("folder") or "FOLDER"
        return f"delete {self.manifest_path} and run: qa index {folder} (passages already encoded are reused)"

    def verify(self, manifest: dict[str, Any]) -> None:
        """Raise IndexCorrupt unless the generation's files are the ones the manifest vouches for.

        Manifests written before checksums existed carry no "files" and are trusted as they are.
        """
        gen = self.generation_dir(manifest)
        for name, want in (manifest.get("files") or {}).items():
            path = gen / name
            try:
                size = path.stat().st_size
                got = file_facts(path) if size == want.get("bytes") else {"bytes": size}
            except OSError as exc:
                raise IndexCorrupt(f"{path}: missing ({exc.strerror}) — {self.rebuild_hint(manifest)}") from exc
            if got["bytes"] != want.get("bytes"):
                raise IndexCorrupt(
                    f"{path}: truncated ({size} bytes, expected {want.get('bytes')}) — {self.rebuild_hint(manifest)}"
                )
            if got != want:
                raise IndexCorrupt(f"{path}: damaged (checksum differs) — {self.rebuild_hint(manifest)}")

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

    def new_generation(self, current: dict[str, Any] | None, copy: bool = True) -> Path:
        """A fresh generation folder holding a copy of the current catalog (if any and `copy`)."""
        number = int(str(current["generation"]).split("-")[1]) + 1 if current else 1
        for stale in self.root.glob(f"{self.manifest_path.name}*.tmp"):
            stale.unlink(missing_ok=True)  # a writer killed mid-publish; we hold the lock, so none is ours
        gen = self.root / f"gen-{number:06d}"
        if gen.exists():
            shutil.rmtree(gen)  # left over by a run that died before publishing it
        gen.mkdir(parents=True)
        if current and copy:
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
        files = {name: file_facts(gen / name) for name in CHECKED}
        fsync_dir(gen)
        write_atomic(self.manifest_path, json.dumps({**manifest, "generation": gen.name, "files": files}, indent=2).encode())
        fsync_dir(self.root)
        keep = {gen.name, str(previous["generation"]) if previous else ""}
        self.cleanup(keep)

    def cleanup(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for child in self.root.glob("gen-*"):
            if child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
