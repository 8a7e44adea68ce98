"""Answers to questions with a typing slip, with and without qa's spelling (qa/search/spelling.py).

    .venv/bin/python bench/typo_answers.py --answers bench/questions/answers.jsonl --corpus ARTICLES \\
        [--split test] [--seed 0]

Each answerable question gets one slip in one of its lower-case words of six letters or more (two
letters swapped, one left out, or one doubled; seeded, so every run slips the same way), and is
asked twice: as qa asks it, and with the spelling step turned off. The table shows answer@1,
answer@3, evidence@k and found for the questions as written and slipped.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa.library
from qa import Library
from qa.eval.answers import AnswerCase, load_cases, run_cases, summarise
from qa.eval.retrieval import default_index_dir
from qa.text import STOPWORDS

_LONG = re.compile(r"\b[a-z]{6,}\b")


def slip(question: str, rng: random.Random) -> str:
    """`question` with one slip in one of its long lower-case words (unchanged when it has none)."""
    words = [m for m in _LONG.finditer(question) if m.group() not in STOPWORDS]
    if not words:
        return question
    m = rng.choice(words)
    w, i = m.group(), rng.randrange(1, len(m.group()) - 1)
    slips = {"swap": w[:i] + w[i + 1] + w[i] + w[i + 2 :], "drop": w[:i] + w[i + 1 :], "double": w[:i] + w[i] + w[i:]}
    typo = slips[rng.choice(("swap", "drop", "double"))]
    return question[: m.start()] + typo + question[m.end() :]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--answers", type=Path, required=True)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--index", type=Path)
    p.add_argument("--split", choices=("dev", "test", "all"), default="test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-k", type=int, default=5)
    args = p.parse_args()
    rng = random.Random(args.seed)
    cases = [c for c in load_cases(args.answers) if c.answerable and args.split in ("all", c.split)]
    slipped: list[AnswerCase] = [replace(c, question=slip(c.question, rng)) for c in cases]
    lib = Library.open(args.index or default_index_dir(args.corpus))
    rows = {}
    try:
        lib.sync(args.corpus)
        rows["as written"] = summarise(run_cases(lib, cases, args.k))["all"]
        rows["slipped, spelling on"] = summarise(run_cases(lib, slipped, args.k))["all"]
        qa.library.respell = lambda question, frequency: question
        rows["slipped, spelling off"] = summarise(run_cases(lib, slipped, args.k))["all"]
    finally:
        lib.close()
    changed = sum(a.question != b.question for a, b in zip(cases, slipped, strict=True))
    print(f"{len(cases)} answerable questions ({args.answers}, split {args.split}), {changed} slipped, k={args.k}")
    print(f"{'':24}{'answer@1':>10}{'answer@3':>10}{'evidence':>10}{'found':>8}")
    for name, r in rows.items():
        print(f"{name:24}{r['answer@1']:>10}{r['answer@3']:>10}{r['evidence@k']:>10}{r['found']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
