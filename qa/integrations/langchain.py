"""qa as a LangChain retriever: `pip install 'qa[langchain]'` (langchain-core only).

    from qa.integrations.langchain import QARetriever

    retriever = QARetriever.from_index(".qa-index", k=3)
    docs = retriever.invoke("Who requested the call?")
    docs[0].page_content                     # the passage, exactly as it stands in the file
    docs[0].metadata["source"], docs[0].metadata["line_start"], docs[0].metadata["sha256"]

Each Document's metadata holds every citation field of `qa.Hit` (source, date, title, character and
line span, page, section, the file's sha256, the index generation, rank, score, the best sentence),
as JSON values, so a chain can quote and cite what it was given.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from qa import config
from qa.errors import MissingExtra
from qa.library import Library
from qa.types import Hit

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict, PrivateAttr
except ImportError as exc:  # pragma: no cover - the extra is installed for the tests
    raise MissingExtra(f"{exc.name} is not installed — run: pip install 'qa[langchain]'") from exc

__all__ = ["QARetriever", "to_document"]


def to_document(hit: Hit) -> Document:
    """A Hit as a LangChain Document: the passage as content, every citation field as metadata."""
    metadata = hit.to_json()
    text = metadata.pop("text")
    return Document(page_content=text, metadata=metadata, id=f"{hit.source}#{hit.start}-{hit.end}")


class QARetriever(BaseRetriever):
    """The k passages of a qa index that best match a query, as cited LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    library: Library
    k: int = config.DEFAULT_K
    mode: str = config.MODES[0]
    since: str | None = None  # YYYY-MM-DD: only documents dated on or after
    until: str | None = None
    # LangChain's batch() calls in from a thread pool; a Library reads one question at a time.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_index(cls, index: str | os.PathLike[str] | None = None, **kwargs: Any) -> QARetriever:
        """A retriever over the index in `index` ($QA_INDEX or ./.qa-index when None)."""
        return cls(library=Library.open(index), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        with self._lock:
            hits = self.library.retrieve(query, k=self.k, since=self.since, until=self.until, mode=self.mode)
        return [to_document(h) for h in hits]
