"""Uploaded files into the indexed folder: checked, renamed safely, never outside it, never over a
file; one the index then refuses (binary bytes named .txt, a password-protected PDF) is removed."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path

from qa import config
from qa.errors import UnsupportedType, UploadRejected, UploadTooLarge
from qa.types import SyncReport

MAX_UPLOAD_BYTES = config.MAX_FILE_BYTES  # the page's limit; the server's own (qa.serve.app) sits just above it
MAX_NAME = 120  # characters of the stem kept; long names are cut, the suffix stays
_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_name(name: str) -> str:
    """A plain file name from whatever the browser sent: no folders, no control or odd characters."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", "".join(ch for ch in base if unicodedata.category(ch)[0] != "C"))
    base = re.sub(r"\s+", " ", base).strip(" .")  # no leading dot: no hidden files, no '..'
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip(" .")[:MAX_NAME] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_file(path: Path, name: str) -> None:
    """UploadRejected when `name` has an unsupported type or `path` is too big."""
    suffix = Path(safe_name(name)).suffix.lower()
    if suffix not in config.SUFFIXES:
        kinds = " ".join(config.SUFFIXES)
        raise UnsupportedType(f"{name}: {suffix or 'no extension'} files are not supported — upload one of {kinds}")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"{name}: {size / 2**20:.1f} MiB is over the {MAX_UPLOAD_BYTES // 2**20} MiB limit — split the file")
    if size == 0:
        raise UploadRejected(f"{name}: the file is empty")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def duplicate_of(path: Path, name: str, folder: Path, indexed: dict[str, str]) -> str | None:
    """Where `path`'s bytes already are: a document of the index with the same SHA-256 (`indexed`:
    sha256 -> its path in the folder), or a file of the folder under a name this upload would get
    (name, name-2, ...: uploaded before, not indexed yet). None when they are new."""
    digest = sha256(path)
    if digest in indexed:
        return indexed[digest]
    clean = Path(safe_name(name))
    for i in range(1, 1000):
        candidate = folder / (clean.name if i == 1 else f"{clean.stem}-{i}{clean.suffix}")
        if not candidate.is_file():
            return None
        if candidate.stat().st_size == path.stat().st_size and sha256(candidate) == digest:
            return candidate.name
    return None


def place(path: Path, name: str, folder: Path) -> Path:
    """Copy `path` into `folder` as safe_name(name); an existing file gets a '-2', '-3'... suffix."""
    check_file(path, name)
    root = folder.resolve()
    clean = Path(safe_name(name))
    for i in range(1, 1000):
        candidate = root / (clean.name if i == 1 else f"{clean.stem}-{i}{clean.suffix}")
        if candidate.resolve().parent != root:  # cannot happen with safe_name; refuse rather than trust it
            raise UploadRejected(f"{name}: the name would leave the folder {root}")
        try:
            # O_EXCL: created here and now, so a file that appeared meanwhile is never overwritten.
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            shutil.copyfileobj(src, out)
        return candidate
    raise UploadRejected(f"{name}: too many files named like it in {root} — rename it")


def withdraw_refused(placed: list[Path], report: SyncReport) -> dict[str, str]:
    """Delete each placed file the sync skipped, so no refused upload stays in the folder; returns
    {name: reason} for them."""
    skipped = {s.path: s.reason for s in report.skipped}
    refused = {p.name: skipped[p.name] for p in placed if p.name in skipped}
    for p in placed:
        if p.name in refused:
            p.unlink(missing_ok=True)
    return refused
