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
import errno
import fcntl
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexCorrupt, IndexIncompatible, IndexLocked, IndexMissing, IndexUnwritable

# 2: whole-document BM25 and document vectors; 3: in-memory BM25 from stored term counts;
# 4: sentence vectors beside each passage's (qa/index/slots.py); 5: each passage's section path;
# 6: where each document's date came from, its OCR'd pages and tags, lines counted per PDF page;
# 7: the loaders read more (dates from titles and file names, PDF outline sections, web pages' lists
# and headings): a sync rebuilds the index from the files, reusing every vector already encoded
FORMAT_VERSION = 7
CHECKED = ("catalog.sqlite", "vectors.faiss")  # the generation files the manifest vouches for
LOCK_POLL = 0.2  # seconds between tries of a writer that waits for the lock
# SQLite's codes for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB): only these make a cache start
# afresh; a full disk (SQLITE_FULL) or a read-only file is the disk's fault, and the data stays.
SQLITE_DAMAGED = (11, 26)


def unwritable(exc: OSError | sqlite3.Error, path: Path) -> IndexUnwritable:
    """The one-line error for a write that failed: what happened to `path`, and the fix."""
    code = getattr(exc, "errno", None)
    text = str(getattr(exc, "strerror", None) or exc)
    if code == errno.ENOSPC or getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in text:
        fix = "the disk is full — free some space and run it again (passages already encoded are kept)"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        fix = f"cannot write ({text}) — make it writable, or give another folder with --index"
    elif code in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        fix = f"cannot write ({text}) — a file or folder is in the way: move it, or give another folder with --index"
    else:
        fix = f"cannot write ({text}) — check the disk and the folder's permissions"
    return IndexUnwritable(f"{path}: {fix}")


def damaged(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file itself is damaged (not full, not read-only, not locked)."""
    return getattr(exc, "sqlite_errorcode", None) in SQLITE_DAMAGED


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
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return None
        except NotADirectoryError as exc:
            raise IndexMissing(f"{self.root} is a file, not an index folder — give a folder (qa makes it)") from exc
        except OSError as exc:  # a folder where the manifest should be, or no permission to read it
            raise IndexCorrupt(f"{self.manifest_path}: cannot read ({exc.strerror}) — {self.rebuild_hint(None)}") from exc
        data = self._parse(raw)
        self._read = (identity, data)
        return dict(data)

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError
            if not re.fullmatch(r"gen-\d{6}", data["generation"]):
                raise ValueError(data["generation"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{self.manifest_path}: damaged manifest — {self.rebuild_hint(None)}") from exc
        return data

    def manifest_generation(self) -> str | None:
        """The generation the manifest on disk names, or None (no manifest, or one that cannot be read)."""
        try:
            return str((self.manifest() or {}).get("generation")) or None
        except (IndexCorrupt, IndexMissing):
            return None

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

    @staticmethod
    def identity(manifest: dict[str, Any]) -> tuple[str, str]:
        """What tells two published generations apart: the name, and the id each publish draws (an
        index deleted and built again restarts its names at gen-000001)."""
        return str(manifest["generation"]), str(manifest.get("build", ""))

    def generation_dir(self, manifest: dict[str, Any]) -> Path:
        return self.root / str(manifest["generation"])

    def rebuild_hint(self, manifest: dict[str, Any] | None) -> str:
        """How to rebuild a damaged index: without a manifest the next sync starts a fresh generation,
        and the vector cache (which checks itself) spares the encoding."""
        folder = (manifest or {}).get("folder") or "FOLDER"
        what = "remove the folder" if self.manifest_path.is_dir() else "delete"
        return f"{what} {self.manifest_path} and run: qa index {folder} (passages already encoded are reused)"

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

    def intact(self, manifest: dict[str, Any]) -> bool:
        """True when the generation's files are the ones the manifest vouches for (verify, as a test)."""
        try:
            self.verify(manifest)
        except IndexCorrupt:
            return False
        return True

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the writer lock. A second writer fails at once (IndexLocked), or after waiting up to
        `wait` seconds for the first to finish."""
        path = self.root / "lock"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+")  # noqa: SIM115 — closed below, after the lock is released
        except OSError as exc:
            raise unwritable(exc, path if self.root.is_dir() else self.root) from exc
        with handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() >= deadline:
                        raise IndexLocked(f"{self.root}: another qa index is writing this index — wait for it to finish") from exc
                    time.sleep(LOCK_POLL)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Turn a failed write (full disk, read-only folder, a file in the way) into IndexUnwritable."""
        try:
            yield
        except OSError as exc:
            raise unwritable(exc, Path(exc.filename) if exc.filename else self.root) from exc
        except sqlite3.OperationalError as exc:
            raise unwritable(exc, self.root) from exc

    def _next_number(self, current: dict[str, Any] | None) -> int:
        """A generation number never used in this folder: above the current one and above every
        generation folder left here (a rebuild after deleting the manifest must not take the name of
        the generation a running chat still reads). Folders above the current one are unpublished
        leftovers of killed runs: removed, and their numbers taken again."""
        now = int(str(current["generation"]).split("-")[1]) if current else 0
        numbers = []
        for child in self.root.glob("gen-*"):
            if not re.fullmatch(r"gen-\d{6}", child.name):
                continue
            if current and int(child.name[4:]) > now:
                shutil.rmtree(child, ignore_errors=True)
            else:
                numbers.append(int(child.name[4:]))
        return max([now, *numbers]) + 1

    def new_generation(self, current: dict[str, Any] | None, copy: bool = True) -> Path:
        """A fresh generation folder holding a copy of the current catalog (if any and `copy`)."""
        for stale in self.root.glob(f"{self.manifest_path.name}*.tmp"):
            stale.unlink(missing_ok=True)  # a writer killed mid-publish; we hold the lock, so none is ours
        gen = self.root / f"gen-{self._next_number(current):06d}"
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
        published = {**manifest, "generation": gen.name, "build": uuid.uuid4().hex, "files": files}
        write_atomic(self.manifest_path, json.dumps(published, indent=2).encode())
        fsync_dir(self.root)
        keep = {gen.name, str(previous["generation"]) if previous else ""}
        self.cleanup(keep)

    def cleanup(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for child in self.root.glob("gen-*"):
            if child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
