"""Choose answer.FOUND_THRESHOLD: the best-sentence score that separates answerable questions.

Answerable: headlines of articles that are in the index. Unanswerable: headlines of articles left
out of it (other news of the same months, so many share topics: a hard negative set), plus a few
questions no news corpus answers. Prints the score distributions and, per threshold, how often an
answerable question is refused and an unanswerable one is answered.

    .venv/bin/python bench/answer_threshold.py [--articles 600] [--queries 300]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np

from qa import Library
from qa.answer.extract import score_sentences
from qa.eval.newsdata import read_articles

TITLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "news_titles.tsv"
OFF_TOPIC = [
    "What is the boiling point of tungsten?", "How do I bake sourdough bread at home?",
    "Which enzyme breaks down lactose?", "What is the airspeed of an unladen swallow?",
    "How many moons does Neptune have?", "Who painted the ceiling of the Sistine Chapel?",
    "What is the time complexity of heapsort?", "How do you say thank you in Finnish?",
    "What is the melting point of gallium?", "Which chess opening starts with 1. e4 c5?",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    titles = {row["article_id"]: row["query"] for row in csv.DictReader(TITLES.open(), delimiter="\t")}
    articles = [a for a in read_articles() if a.article_id in titles and a.text.strip()]
    rng.shuffle(articles)
    inside, outside = articles[: args.articles], articles[args.articles : args.articles + args.queries]
    work = Path(tempfile.mkdtemp(prefix="qa-threshold-"))
    try:
        folder = work / "docs"
        folder.mkdir()
        for a in inside:
            (folder / f"{a.article_id}.txt").write_text(a.text)
        lib = Library.open(work / "index")
        lib.sync(folder)
        asked = [(titles[a.article_id], 1) for a in inside[: args.queries]]
        asked += [(titles[a.article_id], 0) for a in outside] + [(q, 0) for q in OFF_TOPIC]
        best = []
        for question, answerable in asked:
            scores = [s for s, *_ in score_sentences(lib.encoder, question, lib.retrieve(question, k=5))]
            best.append((max(scores, default=0.0), answerable))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(np.array(best))


def report(best: np.ndarray) -> None:
    pos, neg = best[best[:, 1] == 1, 0], best[best[:, 1] == 0, 0]
    print(f"answerable n={len(pos)} quartiles {np.percentile(pos, [25, 50, 75]).round(3)}")
    print(f"unanswerable n={len(neg)} quartiles {np.percentile(neg, [25, 50, 75]).round(3)}")
    print("threshold  refused-answerable  answered-unanswerable  balanced-accuracy")
    for t in np.arange(0.30, 0.66, 0.025):
        refused, answered = float((pos < t).mean()), float((neg >= t).mean())
        print(f"{t:9.3f}  {refused:18.3f}  {answered:21.3f}  {1 - (refused + answered) / 2:17.3f}")


if __name__ == "__main__":
    main()
