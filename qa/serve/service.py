"""One Library and the folder it indexes, shared by everything a server process offers: the chat,
the REST API and the MCP tools. No gradio or FastAPI here, so each of them can use it.

Reads need no lock: each takes the Library's current view and keeps it to the end (Library.view).
Writes (uploads, removals) go one at a time (`writing`); readers keep the last published index
meanwhile. The chat's upload and the API's share `add`; its documents panel and the API share `remove`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import FolderReadOnly, QAError
from qa.ingest.sync import Progress
from qa.library import Library
from qa.serve.upload import check_file, duplicate_of, place, withdraw_refused
from qa.types import DocumentInfo, SyncReport


@dataclass(frozen=True)
class Added:
    """What became of the files of one upload."""

    placed: tuple[Path, ...]  # copied into the folder (under the name they got there)
    rejected: tuple[tuple[str, QAError], ...] = ()  # (name sent, why it was not copied)
    already: tuple[tuple[str, str], ...] = ()  # (name sent, the file of the folder with the same bytes)
    report: SyncReport | None = None  # the sync that indexed them; None when none was placed or it failed
    failed: QAError | None = None  # the sync's error, when it failed
    # placed files the sync could not load (taken out of the folder again), by name, with the reason
    not_indexed: dict[str, str] = field(default_factory=dict)


class Service:
    """A Library and its folder, with the lock every server's writes go through."""

    def __init__(self, lib: Library, folder: Path):
        self.lib, self.folder = lib, Path(folder)
        self.writing = threading.Lock()

    def add(self, files: Sequence[tuple[Path, str]], progress: Progress | None = None, wait: float = 0.0,
            keep: bool = True) -> Added:  # fmt: skip
        """Copy each (path, name sent) into the folder (checked, renamed if taken, not again when the
        same bytes are there already), then index them, waiting up to `wait` seconds for another writer.

        A file the sync could not load is taken out again (withdraw_refused): no refused upload stays
        in the folder. `keep=False` takes them all out when the sync failed (another writer holds the
        index), so that the folder is as it was; the chat keeps them for the next sync."""
        placed, rejected, already = [], [], []
        indexed = self._indexed()
        for path, name in files:
            try:
                check_file(path, name)
                there = duplicate_of(path, name, self.folder, indexed)
                if there is not None:
                    already.append((name, there))
                else:
                    placed.append(place(path, name, self.folder))
            except QAError as exc:
                rejected.append((name, exc))
            except OSError as exc:  # disk full, folder read-only
                why = f"{name}: cannot be copied into {self.folder} ({exc.strerror}) — check the folder is writable and has space"
                rejected.append((name, FolderReadOnly(why)))
        if not placed:
            return Added((), tuple(rejected), tuple(already))
        if progress:
            progress("indexing (waiting for another qa index to finish, if one is running)", 0, len(placed))
        try:
            with self.writing:
                report = self.lib.sync(self.folder, progress=progress, wait=wait)
        except QAError as exc:
            if not keep:
                _discard(placed)
            return Added(() if not keep else tuple(placed), tuple(rejected), tuple(already), failed=exc)
        return Added(tuple(placed), tuple(rejected), tuple(already), report, not_indexed=withdraw_refused(placed, report))

    def remove(self, source: str, wait: float = 0.0) -> SyncReport:
        """Delete one document from the folder and the index (Library.remove)."""
        with self.writing:
            return self.lib.remove(source, wait=wait)

    def inventory(self, needle: str = "") -> list[DocumentInfo]:
        """The indexed documents (Library.inventory) whose source or title holds `needle`, any case."""
        return [d for d in self.lib.inventory() if d.matches(needle)]

    def _indexed(self) -> dict[str, str]:
        """sha256 -> path of every document in the index (none when there is no index yet)."""
        try:
            return {state.sha256: path for path, state in self.lib.view().catalog.files().items()}
        except QAError:
            return {}


def _discard(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
