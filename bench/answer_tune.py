"""Tune the answer step's weights on one half of an answer set, report both halves.

    .venv/bin/python bench/answer_tune.py bench/questions/answers.jsonl --corpus ARTICLES --index INDEX

Each question is retrieved once; its candidate sentences and their evidence (qa.answer.extract) are
kept, so a grid of weights replays in seconds. The grid is searched on the dev half only; the
chosen weights are then scored on both halves (never tune on the half you report).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import Library
from qa.answer import extract, kinds
from qa.eval.answers import AnswerCase, load_cases, norm
from qa.index.lexicon import tokens

GRID = {
    "centred": [0.0, 0.25, 0.5, 1.0],
    "focus": [0.0, 0.25, 0.5, 0.75],
    "kind": [0.0, 0.1, 0.2, 0.3, 0.4, 0.6],
    "rank": [0.0, 0.05, 0.1, 0.2],
}


def collect(lib: Library, cases: list[AnswerCase], k: int) -> list[dict[str, Any]]:
    """Per question: its candidates (evidence, whether each holds the short answer)."""
    out = []
    for case in cases:
        history = [lib.ask(case.first, k=k)] if case.first else []
        r = lib.retrieve_for_answer(case.question, k=k, history=history)
        kind = kinds.question_kind(r.searched)
        pool = extract.candidates(r, kind)
        focus = extract.focus_weights(set(tokens(r.searched)), pool)
        short = norm(case.answer or "")
        rows = [(c, bool(short) and short in norm(r.hits[c.hit].text[c.start : c.end])) for c in pool]
        out.append({"case": case, "kind": kind, "focus": focus, "rows": rows})
    return out


def replay(data: list[dict[str, Any]], w: extract.Weights) -> dict[str, float]:
    """answer@1, answer@3, found and refused for weights `w`, from the collected candidates."""
    at1 = at3 = found = refused = answerable = unanswerable = 0
    for q in data:
        ranked = sorted(((extract.score(c, q["focus"], q["kind"], w), hit) for c, hit in q["rows"]), key=lambda x: -x[0])
        ok = bool(ranked) and ranked[0][0] >= w.found
        shown = [hit for s, hit in ranked[: extract.MAX_QUOTES] if s >= ranked[0][0] - w.margin] if ok else []
        if q["case"].answerable:
            answerable += 1
            found += ok
            at1 += bool(shown) and shown[0]
            at3 += any(shown)
        else:
            unanswerable += 1
            refused += not ok
    return {
        "answer@1": round(at1 / max(1, answerable), 4), "answer@3": round(at3 / max(1, answerable), 4),
        "found": round(found / max(1, answerable), 4), "refused": round(refused / max(1, unanswerable), 4),
    }  # fmt: skip


def best_threshold(data: list[dict[str, Any]], w: extract.Weights, min_found: float) -> extract.Weights:
    """The highest `found` threshold that still answers at least `min_found` of the answerable."""
    best = dataclasses.replace(w, found=-10.0)
    for t in [x / 100 for x in range(20, 120)]:
        trial = dataclasses.replace(w, found=t)
        if replay(data, trial)["found"] >= min_found:
            best = trial
    return best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("answers", type=Path)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--min-found", type=float, default=0.9)
    p.add_argument("--defaults", action="store_true", help="sweep margin and threshold around qa's default weights")
    p.add_argument("--alone", action="store_true", help="score sentences encoded alone instead of their in-context vectors")
    p.add_argument("--margin", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.15, 0.2])
    args = p.parse_args()
    lib = Library.open(args.index)
    if args.alone:  # the ablation: what the stored in-context sentence vectors are worth
        extract.sentence_vectors = lambda _v, hit, spans: lib.encoder.encode_passages([hit.text[a:b] for a, b in spans])
    cases = load_cases(args.answers)
    halves = {s: collect(lib, [c for c in cases if c.split == s], args.k) for s in ("dev", "test")}
    scored = []
    for centred, focus, kind, rank in itertools.product(GRID["centred"], GRID["focus"], GRID["kind"], GRID["rank"]):
        w = extract.Weights(centred=centred, focus=focus, kind=kind, rank=rank, found=-10.0, margin=0.0)
        scored.append((replay(halves["dev"], w)["answer@1"], w))
    scored.sort(key=lambda x: -x[0])
    top = extract.DEFAULT if args.defaults else scored[0][1]
    rows: list[dict[str, Any]] = [
        {"grid": dataclasses.asdict(w), "dev answer@1": s, "test answer@1": replay(halves["test"], w)["answer@1"]}
        for s, w in scored[:8]
    ]
    for margin in args.margin:
        w = best_threshold(halves["dev"], dataclasses.replace(top, margin=margin), args.min_found)
        rows.append({"weights": dataclasses.asdict(w), **{h: replay(d, w) for h, d in halves.items()}})
    default = extract.DEFAULT
    rows.append({"weights": {"default": dataclasses.asdict(default)}, **{h: replay(d, default) for h, d in halves.items()}})
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
