"""Which files of a folder are documents: supported suffixes, hidden folders skipped, loops and
unreadable entries passed over with a reason, names relative to the folder."""

from __future__ import annotations

import errno
from pathlib import Path

from qa import config


def scan(folder: Path, passed_over: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Supported files below `folder`, sorted; hidden folders and symlink loops are passed over.

    `passed_over`, when given, collects (path, reason) for what looks like a document but cannot
    be one: a pipe or device, a broken symlink, a symlink loop, a folder that cannot be listed.
    """
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = [] if passed_over is None else passed_over
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            st = current.stat()
            entries = sorted(current.iterdir())
        except OSError as exc:
            skipped.append((current, _why_unusable(current, exc)))
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue  # a symlink loop or a folder reached twice
        seen.add((st.st_dev, st.st_ino))
        for entry in entries:
            _sort_entry(entry, stack, found, skipped)
    return sorted(found)


def _sort_entry(entry: Path, folders: list[Path], found: list[Path], skipped: list[tuple[Path, str]]) -> None:
    """Put one folder entry where it belongs: a folder to visit, a document, or passed over."""
    if entry.name.startswith("."):
        return
    if entry.is_dir():
        folders.append(entry)
    elif entry.suffix.lower() in config.SUFFIXES:
        if entry.is_file():
            found.append(entry)
        else:
            skipped.append((entry, _why_unusable(entry)))


def _why_unusable(path: Path, error: OSError | None = None) -> str:
    """Why a path that looks like a document (or a folder of them) cannot be read."""
    try:
        path.stat()
    except OSError as exc:
        error = exc
    if error is None:
        return "not a regular file (a pipe, socket or device) — qa reads regular files only"
    if error.errno == errno.ELOOP:
        return "symlink loop — remove the link"
    if error.errno == errno.ENOENT and path.is_symlink():
        return "broken symlink (its target is gone) — remove the link or restore the target"
    return f"cannot read ({error.strerror or error}) — check it exists and is readable"


def relative_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
