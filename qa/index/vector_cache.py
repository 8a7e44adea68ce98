"""The vector cache: every passage text ever encoded into an index, by hash, so none is encoded twice.

    .qa-index/vector-cache.sqlite    text hash -> its vectors (passage, sentences); survives crashes
"""

from __future__ import annotations

import contextlib
import sqlite3
import zlib
from pathlib import Path

import numpy as np

from qa.index.store import damaged, unwritable


class VectorCache:
    """Text hash -> the vectors of every passage text ever encoded into this index (khoj's idea):
    the passage's own vector first, then its sentences' (qa/index/slots.py), as one (rows, dim) array,
    kept in float16 (half the disk; `rounded` gives what a vector reads back as, and sync indexes
    that, so an index built from the cache equals one built fresh).

    Only a cache: when its file is damaged it is emptied and rebuilt, which costs re-encoding, never
    a failed sync; each row carries a CRC-32 of its vectors, and a row that fails it is encoded again.
    Damaged means what SQLite calls damaged (store.damaged): a full disk or a read-only file raises
    IndexUnwritable and keeps every row, for a write error must never lose what was stored.
    The table of index format 3 and before (`vectors`, one float32 vector a text) is dropped: its
    texts have no sentence vectors, so they are encoded again once.
    """

    def __init__(self, path: Path, dim: int):
        self.path = path
        self.dim = dim
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, check_same_thread=False)
            self._create(db)
            db.execute("SELECT hash FROM vectors16 LIMIT 1").fetchall()
            return db
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise unwritable(exc, self.path) from exc
            return self._reset()

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        with db:
            db.execute("DROP TABLE IF EXISTS vectors")  # format 3: one float32 vector a text
            db.execute("CREATE TABLE IF NOT EXISTS vectors16 (hash TEXT PRIMARY KEY, vecs BLOB NOT NULL)")

    def _reset(self) -> sqlite3.Connection:
        """Throw the damaged cache away and start an empty one (the writer holds the lock)."""
        with contextlib.suppress(AttributeError, sqlite3.Error):
            self.db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self._create(self.db)
        return self.db

    @staticmethod
    def rounded(vectors: np.ndarray) -> np.ndarray:
        """The vectors as the cache gives them back (float16 precision, as float32): cosine to the
        originals > 0.99999, far inside what bf16 encoding itself moves them."""
        return np.asarray(vectors, dtype=np.float16).astype(np.float32)

    def get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        try:
            return self._get_many(hashes)
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise unwritable(exc, self.path) from exc
            self._reset()
            return {}

    def _get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        row = 2 * self.dim
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            for h, blob in self.db.execute(f"SELECT hash, vecs FROM vectors16 WHERE hash IN ({marks})", part):
                body = blob[:-4]
                if len(body) >= row and len(body) % row == 0 and zlib.crc32(body).to_bytes(4, "little") == blob[-4:]:
                    out[h] = np.frombuffer(body, dtype=np.float16).reshape(-1, self.dim).astype(np.float32)
        return out

    def put_many(self, hashes: list[str], vectors: list[np.ndarray]) -> None:
        rows = [(h, _with_crc(np.asarray(v, dtype=np.float16).tobytes())) for h, v in zip(hashes, vectors, strict=True)]
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO vectors16 (hash, vecs) VALUES (?, ?)", rows)
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):  # the transaction rolled back: every row stored before is still there
                raise unwritable(exc, self.path) from exc
            with self._reset():
                self.db.executemany("INSERT OR REPLACE INTO vectors16 (hash, vecs) VALUES (?, ?)", rows)

    def prune(self, catalog_path: Path) -> None:
        """Forget vectors no chunk of the published catalog uses."""
        try:
            with self.db:
                self.db.execute("ATTACH DATABASE ? AS cat", (str(catalog_path),))
                self.db.execute("DELETE FROM vectors16 WHERE hash NOT IN (SELECT hash FROM cat.chunks)")
            self.db.execute("DETACH DATABASE cat")
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):  # pruning is tidying: a full disk leaves the rows, to be pruned next time
                return
            self._reset()

    def close(self) -> None:
        self.db.close()


def _with_crc(vector: bytes) -> bytes:
    return vector + zlib.crc32(vector).to_bytes(4, "little")
