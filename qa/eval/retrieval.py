"""`qa eval`: document-level retrieval quality on a BEIR folder or a TSV of queries.

Each query's passage hits become a document ranking by each document's best passage (a
collapsed near-duplicate hit counts for every source it lists), and ranx scores that ranking
against the qrels. The corpus is indexed with the ordinary `Library.sync`, so re-running on an
unchanged corpus encodes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from qa import config
from qa.errors import BadQuestion, DatasetError, FolderMissing
from qa.types import Hit

PASSAGES = 200  # passages retrieved per query before they are folded into documents
Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Dataset:
    """Queries, their relevant documents, and the folder of documents they are judged over."""

    name: str
    corpus: Path
    queries: dict[str, str]
    qrels: Qrels
    doc_id: Callable[[str], str] = field(default=lambda source: Path(source).stem)


def metric_names(k: int) -> list[str]:
    return [f"ndcg@{k}", "recall@1", f"recall@{k}", "recall@100", f"mrr@{k}"]


def load_tsv(path: Path, corpus: Path) -> Dataset:
    """A TSV with a header; columns 1-3 are query id, query, document id (file name without
    extension); further columns are ignored. A query may name several relevant documents."""
    queries: dict[str, str] = {}
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows, None)
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise DatasetError(f"{path}:{line}: expected query id, query, document id")
            qid, query, docid = (cell.strip() for cell in row[:3])
            queries[qid] = query
            qrels.setdefault(qid, {})[docid] = 1
    return Dataset(path.stem, corpus, queries, qrels)


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if text.strip():
                try:
                    yield json.loads(text)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{line}: not JSON ({exc.msg})") from None


def _file_stem(doc_id: str) -> str:
    """A document id as a safe file name stem (reversible with unquote; never hidden)."""
    stem = quote(doc_id, safe="")
    return "%2E" + stem[1:] if stem.startswith(".") else stem


def load_beir(folder: Path, docs: Path | None = None) -> Dataset:
    """A BEIR folder; its corpus is written as `<id>.txt` (title, blank line, text) into `docs`
    (default: a cache folder keyed by the dataset's path). Unchanged files are not rewritten."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (folder / name).is_file():
            raise DatasetError(f"{folder}: no {name} — a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/test.tsv")
    docs = docs or _keyed(config.cache_dir() / "beir", folder)
    docs.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    for doc in _jsonl(folder / "corpus.jsonl"):
        title, text = str(doc.get("title") or "").strip(), str(doc.get("text") or "")
        path = docs / f"{_file_stem(str(doc['_id']))}.txt"
        content = (f"{title}\n\n{text}" if title else text).encode("utf-8")
        wanted.add(path.name)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
    for stale in docs.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    qrels: Qrels = {}
    with (folder / "qrels/test.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 3 and row[2].strip().lstrip("-").isdigit() and int(row[2]) > 0:
                qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    texts = {str(q["_id"]): str(q.get("text") or "") for q in _jsonl(folder / "queries.jsonl")}
    queries = {qid: texts[qid] for qid in qrels if qid in texts}
    qrels = {qid: rel for qid, rel in qrels.items() if qid in queries}
    return Dataset(folder.name, docs, queries, qrels, doc_id=lambda s: unquote(Path(s).stem))


def load_dataset(dataset: Path, corpus: Path | None = None) -> Dataset:
    """A BEIR folder, or a TSV judged over `corpus`."""
    if dataset.is_dir():
        return load_beir(dataset)
    if not dataset.is_file():
        raise DatasetError(f"{dataset}: no such file or folder — give a BEIR folder or a TSV")
    if corpus is None:
        raise DatasetError(f"{dataset} is a TSV: add --corpus FOLDER holding its documents")
    if not corpus.is_dir():
        raise FolderMissing(f"{corpus}: no such folder — --corpus must be the documents' folder")
    return load_tsv(dataset, corpus)


def _keyed(parent: Path, path: Path) -> Path:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    return parent / f"{path.resolve().name}-{digest}"


def default_index_dir(corpus: Path) -> Path:
    """The evaluation index of a corpus: in the user cache, keyed by the corpus's absolute path,
    so every eval of the same folder reuses it and the user's folders are never written to."""
    return _keyed(config.cache_dir() / "eval-index", corpus)


def doc_ranking(hits: Iterable[Hit], doc_id: Callable[[str], str]) -> list[str]:
    """Documents in the order of their best passage; a collapsed hit stands for all its sources."""
    ranking: dict[str, None] = {}
    for hit in hits:
        for source in (hit.source, *(d.source for d in hit.duplicates)):
            ranking.setdefault(doc_id(source), None)
    return list(ranking)


def run_queries(
    lib: Any,
    data: Dataset,
    mode: str,
    passages: int = PASSAGES,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Each query's document ranking, as a ranx-ready run with strictly falling scores."""
    run: Run = {}
    if mode != "keyword":
        lib.prepare_queries(list(data.queries.values()))  # one batch: every core, not one query at a time
    for n, (qid, query) in enumerate(data.queries.items(), start=1):
        try:
            hits = lib.retrieve(query, k=passages, mode=mode)
        except BadQuestion:
            hits = []
        docs = doc_ranking(hits, data.doc_id)
        run[qid] = {doc: float(len(docs) - i) for i, doc in enumerate(docs)}
        if progress:
            progress(n, len(data.queries))
    return run


def score(qrels: Qrels, run: Run, k: int = 10) -> dict[str, float]:
    """ranx's nDCG@k, recall@1, recall@k, recall@100, MRR@k averaged over the qrels' queries."""
    from ranx import Qrels as RQrels
    from ranx import Run as RRun
    from ranx import evaluate

    full = {qid: run.get(qid, {}) for qid in qrels}
    with warnings.catch_warnings():  # numba notes an integer cast inside ranx; harmless
        warnings.simplefilter("ignore")
        result = evaluate(RQrels(qrels), RRun(full), metric_names(k), make_comparable=True)
    return {name: round(float(value), 4) for name, value in result.items()}


def evaluate_modes(
    lib: Any,
    data: Dataset,
    modes: Iterable[str],
    k: int = 10,
    log: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics per retrieval mode."""
    results = {}
    for mode in modes:
        results[mode] = score(data.qrels, run_queries(lib, data, mode, progress=_ticker(mode, log)), k)
    return results


def _ticker(mode: str, log: Callable[[str], None] | None) -> Callable[[int, int], None]:
    started = time.monotonic()

    def tick(n: int, total: int) -> None:
        if log and (n % 500 == 0 or n == total):
            log(f"{mode}: {n}/{total} queries, {time.monotonic() - started:.0f} s")

    return tick


