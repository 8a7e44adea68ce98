"""A watched folder: files added, changed, renamed or deleted are synced into the index within seconds.

    qa watch seeds/                 # sync, then keep the index in line with the folder until Ctrl-C
    qa chat seeds/ --watch          # the same inside the chat; questions read each new generation

Change events come from watchfiles (inotify on Linux, FSEvents on macOS, polling as a fallback),
grouped into batches: a batch ends after QUIET_MS without events, or DEBOUNCE_MS after its first.
Each batch runs one ordinary `Library.sync` of the whole folder, so the watcher can never disagree
with `qa index`: a missed or coalesced event is caught by the next sync, and an event about a file
that did not change costs a scan of sizes and times, nothing else.

A rename reaches the sync as a removal and an addition in one batch; the new file's passages are
found in the vector cache by their text hash, so none is encoded again (the report says so).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.index.catalog import Catalog, FileState
from qa.library import Library
from qa.types import Skipped, SyncReport

DEBOUNCE_MS = 1600  # a batch is cut after this long even while events keep coming (watchfiles' default)
QUIET_MS = 300  # ... or after this long without events: a file copied in a few writes is synced once
RETRY_MS = 5000  # after a failed sync (another writer held the index), try again this often
WAKE_MS = 1000  # the watch wakes this often without events: to start, to retry, to notice `stop`


@dataclass(frozen=True)
class Synced:
    """What one sync changed, by file name, with the sync's own report."""

    report: SyncReport
    generation: str
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (old name, new name): same bytes, new place

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.renamed)


def compare(before: dict[str, FileState], after: dict[str, FileState], report: SyncReport, generation: str) -> Synced:
    """Name what changed between two catalogs; a removed and an added file with the same SHA-256 is a rename."""
    gone = [n for n in before if n not in after]
    new = [n for n in after if n not in before]
    renamed = []
    for old in list(gone):
        twin = next((n for n in new if after[n].sha256 == before[old].sha256), None)
        if twin is not None:
            renamed.append((old, twin))
            gone.remove(old)
            new.remove(twin)
    changed = [n for n in after if n in before and after[n].sha256 != before[n].sha256]
    return Synced(report, generation, tuple(new), tuple(changed), tuple(gone), tuple(renamed))


def _identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder, None when nothing stands at its path."""
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def files(lib: Library) -> tuple[str, dict[str, FileState]]:
    """The published generation and what it holds, by file name (no index yet: "", empty). Read from its
    catalog alone: opening a whole view would load the vectors, which only the next sync needs."""
    manifest = lib.store.manifest()
    if not manifest:
        return "", {}
    catalog = Catalog(lib.store.generation_dir(manifest) / "catalog.sqlite", readonly=True)
    try:
        return str(manifest["generation"]), catalog.files()
    finally:
        catalog.close()


class Watcher:
    """Keeps one index in line with one folder. `run` blocks; `start` runs it on a thread.

    `lock`, when given, is held around each sync: the chat shares it with its upload handler, so the
    two never sync at once. `on_sync` hears every sync that changed something, `on_skipped` each file
    of a batch the sync could not load (it keeps its last good version), `on_error` a sync that failed.
    """

    def __init__(
        self,
        lib: Library,
        folder: str | Path,
        on_sync: Callable[[Synced], None],
        on_skipped: Callable[[Skipped], None],
        on_error: Callable[[str], None],
        lock: AbstractContextManager[Any] | None = None,
    ):
        self.lib, self.folder = lib, Path(folder).resolve()
        self.on_sync, self.on_skipped, self.on_error = on_sync, on_skipped, on_error
        self.lock = lock or nullcontext()
        self.index = lib.store.root.resolve()
        self.stop = threading.Event()
        self._last_error = ""

    def sync(self, touched: set[str] | None = None) -> bool:
        """One sync; False when it failed (reported). Files it skipped are reported when they are in
        `touched` (relative names; None: all), so a bad file is named once per change, not per sync."""
        try:
            with self.lock:
                _, before = files(self.lib)
                report = self.lib.sync(self.folder)
                generation, after = files(self.lib)
        except (QAError, OSError) as exc:
            self._failed(str(exc))
            return False
        self._last_error = ""
        for skipped in report.skipped:
            if touched is None or skipped.path in touched:
                self.on_skipped(skipped)
        synced = compare(before, after, report, generation)
        if not synced.empty:
            self.on_sync(synced)
        with contextlib.suppress(QAError):  # the next sync starts from this generation: open it now, not then
            self.lib.view()
        return True

    def _failed(self, message: str) -> None:
        """Report a failure, once while it repeats (a failed sync is retried every RETRY_MS)."""
        if message != self._last_error:
            self.on_error(message)
        self._last_error = message

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Watch until `stop` is set (or Ctrl-C, on the main thread). Each time the watch goes live it
        syncs once, so nothing changed before is missed; `ready` is called after the first time.

        A folder moved away, deleted or replaced is watched again once a folder stands at its path:
        the watch follows the folder itself, so it would otherwise keep watching the old one."""
        announced = False
        while not self.stop.is_set():
            folder = _identity(self.folder)
            if folder is None:
                self._failed(f"{self.folder}: no such folder — put it back, or stop and watch another")
                self.stop.wait(RETRY_MS / 1000)
                continue
            self._watch(folder, None if announced else ready)
            announced = True

    def _watch(self, folder: tuple[int, int], ready: Callable[[], None] | None) -> None:
        """One watch of the folder with this identity, until it changes or `stop` is set."""
        from watchfiles import DefaultFilter, watch

        started, healthy, tried = False, True, 0.0
        for batch in watch(
            self.folder, watch_filter=DefaultFilter(), debounce=DEBOUNCE_MS, step=QUIET_MS, stop_event=self.stop,
            rust_timeout=WAKE_MS, yield_on_timeout=True,
        ):  # fmt: skip
            if _identity(self.folder) != folder:
                return
            touched = {self._relative(path) for _, path in batch} - {""}
            retry = not healthy and time.monotonic() - tried >= RETRY_MS / 1000
            if not started or touched or retry:
                healthy, tried = self.sync(touched if started else None), time.monotonic()
            if not started and ready:
                ready()
            started = True

    def _relative(self, path: str) -> str:
        """The changed path as the index names it; "" for what no sync reads: a hidden file or folder,
        the index itself when it lives inside the folder."""
        changed = Path(path)
        if changed.is_relative_to(self.index):
            return ""
        try:
            name = changed.relative_to(self.folder).as_posix()
        except ValueError:
            return ""
        return "" if any(part.startswith(".") for part in name.split("/")) else name

    def start(self, ready: Callable[[], None] | None = None) -> threading.Thread:
        """Run on a daemon thread; `stop.set()` ends it within about WAKE_MS."""
        thread = threading.Thread(target=self.run, args=(ready,), name=f"qa-watch {self.folder}", daemon=True)
        thread.start()
        return thread
