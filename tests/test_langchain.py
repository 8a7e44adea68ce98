"""qa[langchain]: the retriever through langchain-core's own Runnable interface, over the seeds."""

from __future__ import annotations

import subprocess
import sys

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from qa.integrations.langchain import QARetriever
from qa.library import Library
from tests.conftest import BIDEN

QUESTION = "What did Biden warn Putin of if Russia invaded Ukraine?"


def test_invoke_returns_cited_documents_equal_to_the_hits(seed_library: Library) -> None:
    docs = QARetriever(library=seed_library, k=3).invoke(QUESTION)
    hits = seed_library.retrieve(QUESTION, k=3)
    assert all(isinstance(d, Document) for d in docs) and len(docs) == len(hits) == 3
    for doc, hit in zip(docs, hits, strict=True):
        assert doc.page_content == hit.text
        assert doc.metadata == {k: v for k, v in hit.to_json().items() if k != "text"}
        assert doc.id == f"{hit.source}#{hit.start}-{hit.end}"
    first = docs[0].metadata
    assert first["source"] == BIDEN and first["date"] == "2021-12-31" and first["line_start"] >= 1
    assert len(first["sha256"]) == 64 and first["generation"] == seed_library.view().generation
    text = seed_library.document(first["source"]).text  # type: ignore[union-attr]
    assert text[first["start"] : first["end"]] == docs[0].page_content


def test_it_composes_and_batches_as_a_runnable(seed_library: Library) -> None:
    retriever = QARetriever(library=seed_library, k=2, since="2021-12-31", until="2021-12-31")
    cite = RunnableLambda(lambda docs: [f"{d.metadata['source']}:{d.metadata['line_start']}" for d in docs])
    cited = (retriever | cite).invoke(QUESTION)
    assert len(cited) == 2 and all(c.startswith(f"{BIDEN}:") for c in cited)
    batches = retriever.batch([QUESTION, "What did Peskov say about negotiations?"])
    assert [len(b) for b in batches] == [2, 2]
    assert {d.metadata["date"] for b in batches for d in b} == {"2021-12-31"}


def test_importing_qa_imports_neither_langchain_nor_watchfiles() -> None:
    code = "import sys, qa, qa.cli, qa.export, qa.watch; sys.exit('langchain_core' in sys.modules or 'watchfiles' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
