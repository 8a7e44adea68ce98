"""Which files of a folder are documents: supported suffixes, hidden folders skipped, loops,
unreadable entries, over-long paths and symlinks leading out of the folder passed over with a
reason; names relative to the folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from qa import config

# A link out of the folder is never followed: /etc/passwd linked into a shared folder would be
# indexed and shown to whoever can reach the chat. Its reason starts with this.
OUTSIDE = "symlink to a place outside the folder"


def scan(folder: Path, passed_over: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Supported files below `folder`, sorted; hidden folders and symlink loops are passed over.

    `passed_over`, when given, collects (path, reason) for what looks like a document but cannot
    be one: a pipe or device, a broken symlink, a symlink loop or one leading out of the folder,
    a folder that cannot be listed or entered, a path too long for the system.
    """
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = [] if passed_over is None else passed_over
    root = Path(os.path.realpath(folder))
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
            _sort_entry(entry, root, stack, found, skipped)
    return sorted(found)


def _sort_entry(entry: Path, root: Path, folders: list[Path], found: list[Path], skipped: list[tuple[Path, str]]) -> None:
    """Put one folder entry where it belongs: a folder to visit, a document, or passed over."""
    if entry.name.startswith("."):
        return
    try:
        wanted = entry.suffix.lower() in config.SUFFIXES
        if entry.is_symlink() and not Path(os.path.realpath(entry)).is_relative_to(root):
            if wanted or entry.is_dir():
                skipped.append((entry, f"{OUTSIDE} ({os.readlink(entry)}) — copy it into the folder to index it"))
            return
        if entry.is_dir():
            folders.append(entry)
        elif wanted:
            if entry.is_file():
                found.append(entry)
            else:
                skipped.append((entry, _why_unusable(entry)))
    except OSError as exc:  # a folder that can be listed but not entered, a name past PATH_MAX
        skipped.append((entry, _why_unusable(entry, exc)))


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
    if error.errno == errno.ENAMETOOLONG:
        return "path too long for the system (PATH_MAX) — move it nearer the top of the folder or shorten its folder names"
    if error.errno == errno.ENOENT and path.is_symlink():
        return "broken symlink (its target is gone) — remove the link or restore the target"
    return f"cannot read ({error.strerror or error}) — check it exists and is readable"


def relative_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
