"""New document signals, replayed over every article: do they lift R@10 on the headlines?

    python bench/eval_news.py dump --exact --name hx2                          # headline candidates
    python bench/eval_news.py deep --out /tmp/deep.tsv                         # 600 detail questions
    python bench/eval_news.py dump --exact --name dx2 --tsv /tmp/deep.tsv
    python bench/eval_signals.py build --name hx2 --tsv ../shared/data/news_titles.tsv
    python bench/eval_signals.py build --name dx2 --tsv /tmp/deep.tsv
    python bench/eval_signals.py sentences                                     # ~4 min of encoding
    python bench/eval_news.py dump --exact --name nx2 --tsv bench/questions/natural.tsv
    python bench/eval_signals.py build --name nx2 --tsv bench/questions/natural.tsv
    python bench/eval_signals.py report --headlines hx2 --others dx2 nx2
    python bench/eval_signals.py alone --name dx2    # then: eval_news.py tune --name dx2-alone --tsv ...

`build` scores every document, not only the candidates' documents: the best fused passage score of
each document from the dump (as `fusion.rank` computes it), whole-text BM25 and the cosine to
the document vector. `report` adds each new signal to qa's own score (best passage + 0.8 x BM25
share + 0.8 x cosine; it reproduces `eval_news.py tune` to the fourth decimal) at a few weights and
prints nDCG@10 / R@10 / R@100 on the odd and even headlines, the detail questions (half a sentence
copied from deep inside an article) and the 120 natural questions (`bench/questions/natural.tsv`,
written in their own words: see docs/benchmarks/retrieval.md).

Signals: the cosine to an embedding of each article's 40 most distinctive words (tf-idf), lexical
pseudo-relevance feedback (RM3-style: the top documents' weighted terms as a second BM25 query),
reciprocal rank fusion at the document level, and the best cosine over each article's sentences
encoded one by one (not pooled inside their passage, as the index does).
"""

from __future__ import annotations

import argparse
import collections
import math
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # as every bench script: `bench.` modules import from the checkout

from bench.eval_news import RESULTS, TSV, corpus, log, published_catalog  # noqa: E402
from qa.eval.retrieval import default_index_dir, load_tsv  # noqa: E402
from qa.index.catalog import Catalog  # noqa: E402
from qa.index.lexicon import Lexicon  # noqa: E402
from qa.index.slots import SLOTS, best_per_chunk  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.search import fusion, retrieve  # noqa: E402
from qa.text import STOPWORDS, split_sentences  # noqa: E402

Matrices = dict[str, Any]


def open_index() -> tuple[Path, Catalog]:
    index = default_index_dir(corpus())
    return index, published_catalog(index)


def share_of_best(scores: np.ndarray) -> np.ndarray:
    """Each row as a share of its best (as `fusion.document_scores` scales document BM25)."""
    best = scores.max(1, keepdims=True)
    best[best == 0] = 1
    return scores / best


def cmd_build(args: argparse.Namespace) -> None:
    data = load_tsv(args.tsv, corpus())
    index, catalog = open_index()
    lookup, lexicon = catalog.lookup(), Lexicon.load(catalog.db, catalog.path)
    docids = lookup.doc_ids
    if not np.array_equal(lexicon.documents.ids, docids):
        raise SystemExit("every document needs a vector and a bag: rebuild the index")
    pos = {d: i for i, d in enumerate(docids.tolist())}
    by_stem = {Path(p).stem: d for d, p in catalog.db.execute("SELECT id, path FROM documents")}
    qids, texts = list(data.queries), list(data.queries.values())
    queries = Library.open(index).encoder.encode_queries(texts)
    bm25 = np.stack([lexicon.documents.scores(lexicon.ids_of(t)) for t in texts])
    with (RESULTS / f"candidates-{args.name}.pkl").open("rb") as fh:
        cands = pickle.load(fh)
    passage = np.full(bm25.shape, -np.inf, dtype=np.float32)  # best fused passage per document
    depth = retrieve.CANDIDATES  # per retriever, as search() takes them
    for r, q in enumerate(qids):
        ids, values = fusion.combine(cands["dense"][q][:depth], cands["lexical"][q][:depth], "hybrid", fusion.DEFAULT)
        np.maximum.at(passage[r], [pos[cands["doc_of"][c]] for c in ids.tolist()], values.astype(np.float32))
    target = np.array([pos[by_stem[next(iter(data.qrels[q]))]] for q in qids])
    np.savez(
        RESULTS / f"signals-{args.name}.npz",
        queries=queries, bm25=bm25, passage=passage, target=target, docids=docids,
        cosine=queries @ lookup.doc_vectors.T, qids=np.array(qids),
        odd=np.array([int(q.lstrip("tdn")) % 2 == 1 for q in qids]),
    )  # fmt: skip
    log(f"wrote {RESULTS / f'signals-{args.name}.npz'}")


def cmd_sentences(args: argparse.Namespace) -> None:
    """Every distinct sentence of every document, encoded alone; and each article's keywords."""
    index, catalog = open_index()
    encoder = Library.open(index).encoder
    docs, chunks, texts, seen = [], [], [], set()
    for chunk, doc, text in catalog.db.execute("SELECT id, doc_id, text FROM chunks ORDER BY id"):
        for a, b in split_sentences(text) or [(0, len(text))]:
            if (key := (doc, text[a:b].strip())) not in seen and key[1]:
                seen.add(key)
                docs.append(doc)
                chunks.append(chunk)  # the first passage that holds it
                texts.append(key[1])
    log(f"encoding {len(texts)} sentences")
    vectors = encoder.encode_queries(texts).astype(np.float16)
    word = re.compile(r"[a-z][a-z'-]*[a-z]")
    bodies: dict[int, list[str]] = collections.defaultdict(list)
    for doc, text in zip(docs, texts, strict=True):  # each sentence once: passages overlap by one
        bodies[doc] += word.findall(text.lower())
    df = collections.Counter(w for words in bodies.values() for w in set(words))
    keywords = []
    doc_ids = sorted(bodies)
    for d in doc_ids:
        tf = collections.Counter(w for w in bodies[d] if w not in STOPWORDS)
        weight = {w: (1 + math.log(c)) * math.log(len(bodies) / df[w]) for w, c in tf.items()}
        top = set(sorted(weight, key=lambda w: -weight[w])[:40])
        keywords.append(" ".join(w for w in dict.fromkeys(bodies[d]) if w in top))  # in reading order
    np.savez(
        RESULTS / "signals-corpus.npz", sentences=vectors, sentence_doc=np.array(docs), sentence_chunk=np.array(chunks),
        keyword_doc=np.array(doc_ids), keywords=encoder.encode_queries(keywords),
    )  # fmt: skip
    log(f"wrote {RESULTS / 'signals-corpus.npz'}")


def cmd_alone(args: argparse.Namespace) -> None:
    """A dump as `eval_news.py dump --exact` would write it if the index held each sentence encoded
    alone instead of pooled in its passage: candidates-NAME-alone.pkl, for `eval_news.py tune`."""
    import faiss

    index, _ = open_index()
    stored, matrix = Library.open(index).view().vectors.items()
    own = stored % SLOTS == 0
    corpus_vectors = np.load(RESULTS / "signals-corpus.npz")
    ids = np.concatenate([stored[own], corpus_vectors["sentence_chunk"] * SLOTS + 1])
    vectors = np.concatenate([matrix[own], corpus_vectors["sentences"]]).astype(np.float32)
    with (RESULTS / f"candidates-{args.name}.pkl").open("rb") as fh:
        cands = pickle.load(fh)
    built = np.load(RESULTS / f"signals-{args.name}.npz")
    queries, qids = built["queries"], built["qids"].tolist()
    scores, rows = faiss.knn(queries, vectors, 2 * args.depth, faiss.METRIC_INNER_PRODUCT)
    cands["dense"] = {q: best_per_chunk(ids[rows[r]], scores[r], args.depth) for r, q in enumerate(qids)}
    with (RESULTS / f"candidates-{args.name}-alone.pkl").open("wb") as fh:
        pickle.dump(cands, fh)
    log(f"wrote {RESULTS / f'candidates-{args.name}-alone.pkl'}")


def per_document_max(queries: np.ndarray, vectors: np.ndarray, owner: np.ndarray, docids: np.ndarray) -> np.ndarray:
    """(query, document) -> the best cosine of the query to any of the document's vectors."""
    col = np.searchsorted(docids, owner)
    order = np.argsort(col, kind="stable")
    col, vectors = col[order], vectors[order]
    out = np.full((len(queries), len(docids)), -1.0, dtype=np.float32)
    for s in range(0, len(vectors), 20_000):
        sim = queries @ vectors[s : s + 20_000].astype(np.float32).T
        c = col[s : s + 20_000]
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        out[:, c[starts]] = np.maximum(out[:, c[starts]], np.maximum.reduceat(sim, starts, axis=1))
    return out


def qa_score(m: Matrices) -> np.ndarray:
    """qa's defaults: best fused passage + doc_lexical x BM25 share of the best candidate + doc_dense x cosine."""
    w = fusion.DEFAULT
    candidate = np.isfinite(m["passage"])
    bm25 = share_of_best(np.where(candidate, m["bm25"], 0))
    score = np.where(candidate, m["passage"], 0) + w.doc_lexical * bm25 + w.doc_dense * m["cosine"]
    return np.where(candidate, score, -np.inf)


def metrics(score: np.ndarray, target: np.ndarray) -> str:
    t = score[np.arange(len(target)), target]
    rank = 1 + (score > t[:, None]).sum(1)
    ndcg = np.where(rank <= 10, 1 / np.log2(rank + 1), 0).mean()
    return f"{ndcg:.4f} / {(rank <= 10).mean():.4f} / {(rank <= 100).mean():.4f}"


def rm3(m: Matrices, lexicon: Lexicon, bags: dict[int, np.ndarray], feedback: int, n_terms: int = 10) -> np.ndarray:
    """BM25 of every document for a second query: the n_terms heaviest terms (tf share x idf) of the
    `feedback` best documents by qa's score (m["qa"]), weighted, as a share of the best candidate's."""
    post = lexicon.documents
    df = np.diff(post.starts)
    idf = np.log1p((len(post.ids) - df + 0.5) / (df + 0.5))
    out = np.zeros_like(m["bm25"])
    for r in range(len(out)):
        weights: dict[int, float] = collections.defaultdict(float)
        for di in np.argsort(-m["qa"][r])[:feedback]:
            bag = bags[int(m["docids"][di])]
            for t, v in zip(bag[:, 0].tolist(), (bag[:, 1] / bag[:, 1].sum() * idf[bag[:, 0]]).tolist(), strict=True):
                weights[t] += v
        top = sorted(weights.items(), key=lambda kv: -kv[1])[:n_terms]
        for t, v in top:
            lo, hi = post.starts[t], post.starts[t + 1]
            out[r, post.rows[lo:hi]] += v / top[0][1] * post.weights[lo:hi]
    return share_of_best(np.where(np.isfinite(m["passage"]), out, 0))


def rrf(m: Matrices, k: int) -> np.ndarray:
    """Reciprocal rank fusion of the three document rankings (best passage, BM25, cosine), candidates only."""
    candidate = np.isfinite(m["passage"])
    total = np.zeros(m["bm25"].shape)
    for s in (m["passage"], m["bm25"], m["cosine"]):
        order = np.argsort(-np.where(candidate, s, -np.inf), axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(1, order.shape[1] + 1)[None, :], axis=1)
        total += 1 / (k + rank)
    return np.where(candidate, total, -np.inf)


def cmd_report(args: argparse.Namespace) -> None:
    sets = {name: dict(np.load(RESULTS / f"signals-{name}.npz")) for name in (args.headlines, *args.others)}
    corpus_vectors = dict(np.load(RESULTS / "signals-corpus.npz"))
    index, catalog = open_index()
    lexicon = Lexicon.load(catalog.db, catalog.path)
    bags = {i: np.frombuffer(b, np.int32).reshape(-1, 2) for i, b in catalog.db.execute("SELECT id, bag FROM documents")}
    for m in sets.values():
        m["qa"] = qa_score(m)
        order = np.searchsorted(corpus_vectors["keyword_doc"], m["docids"])
        m["keywords"] = m["queries"] @ corpus_vectors["keywords"][order].T
        m["sentences"] = per_document_max(m["queries"], corpus_vectors["sentences"], corpus_vectors["sentence_doc"], m["docids"])
        m["rm3-1"], m["rm3-3"] = rm3(m, lexicon, bags, 1), rm3(m, lexicon, bags, 3)

    def row(label: str, score: Any) -> None:
        h = sets[args.headlines]
        sh, odd = score(h), h["odd"]
        cells = [metrics(sh[odd], h["target"][odd]), metrics(sh[~odd], h["target"][~odd]), metrics(sh, h["target"])]
        cells += [metrics(score(sets[name]), sets[name]["target"]) for name in args.others]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)

    print("| signal | headlines odd | headlines even | headlines all | " + " | ".join(args.others) + " |")
    print("|---" * (4 + len(args.others)) + "|")
    row("qa's defaults", lambda m: m["qa"])
    for name in ("keywords", "sentences", "rm3-1", "rm3-3"):
        for w in (0.2, 0.4, 0.8):
            row(f"+ {w} x {name}", lambda m, n=name, w=w: m["qa"] + w * m[n])
    for k in (10, 60):
        row(f"document RRF, k={k}", lambda m, k=k: rrf(m, k))
    row("+ 0.4 x keywords + 0.8 x sentences", lambda m: m["qa"] + 0.4 * m["keywords"] + 0.8 * m["sentences"])

    # Dense alone, a document by its best vector: the index's (passages and their pooled sentences)
    # against the passages' with the sentences encoded alone.
    stored, matrix = Library.open(index).view().vectors.items()
    chunk_doc = dict(catalog.db.execute("SELECT id, doc_id FROM chunks"))
    owner = np.array([chunk_doc[int(i) // SLOTS] for i in stored])
    own = stored % SLOTS == 0
    for m in sets.values():
        m["index"] = per_document_max(m["queries"], matrix, owner, m["docids"])
        m["alone"] = np.maximum(per_document_max(m["queries"], matrix[own], owner[own], m["docids"]), m["sentences"])
    row("dense: passages + pooled sentences (the index)", lambda m: m["index"])
    row("dense: passages + sentences encoded alone", lambda m: m["alone"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--name", required=True, help="the candidates dump (bench/results/candidates-NAME.pkl)")
    b.add_argument("--tsv", type=Path, default=TSV)
    sub.add_parser("sentences")
    a = sub.add_parser("alone")
    a.add_argument("--name", required=True, help="the candidates dump to redo with sentences encoded alone")
    a.add_argument("--depth", type=int, default=1000)
    r = sub.add_parser("report")
    r.add_argument("--headlines", default="hx2")
    r.add_argument("--others", nargs="+", default=["dx2", "nx2"], help="more question sets (signals-NAME.npz)")
    args = p.parse_args()
    {"build": cmd_build, "sentences": cmd_sentences, "alone": cmd_alone, "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    main()
