"""qa: answers from your own documents, every passage cited. Offline.

    from qa import retrieve
    hits = retrieve("Who requested the call?", k=3)
"""

from __future__ import annotations

import datetime as dt
import os
import threading

from qa import config
from qa.errors import QAError
from qa.library import Library
from qa.types import Answer, Chunk, Document, Hit, Quote, SyncReport

__all__ = ["Answer", "Chunk", "Document", "Hit", "Library", "QAError", "Quote", "SyncReport", "ask", "retrieve"]

_open: dict[str, Library] = {}
_open_lock = threading.Lock()


def _library(index: str | os.PathLike[str] | None) -> Library:
    """One Library per index directory per process, so the model loads once."""
    key = str(config.index_dir(index).resolve())
    with _open_lock:
        if key not in _open:
            _open[key] = Library.open(key)
        return _open[key]


def retrieve(
    question: str,
    k: int = config.DEFAULT_K,
    index: str | os.PathLike[str] | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> list[Hit]:
    """The k best passages for `question` from the index in `index`, $QA_INDEX or ./.qa-index."""
    return _library(index).retrieve(question, k=k, since=since, until=until)


def ask(
    question: str,
    k: int = config.DEFAULT_K,
    index: str | os.PathLike[str] | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> Answer:
    """An extractive answer quoting the best passages, each quote cited."""
    return _library(index).ask(question, k=k, since=since, until=until)
