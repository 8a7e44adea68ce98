"""`qa eval --answers FILE`: does the answer a user reads answer the question?

FILE holds one JSON object a line: `id`, `type` (who, what, when, where, quantity, why),
`question`, `answerable`, and for answerable ones the short `answer`, the verbatim `evidence`
sentence and the `article` (file stem) it comes from; `split` is dev or test; a follow-up also
has `first`, the question it follows (asked first, in the same conversation).

    answer@1   the short answer lies in the first quote
    answer@3   it lies in the answer shown (every quote)
    evidence@k the evidence sentence lies inside one of the k hits
    found      answerable questions given an answer, not "not in the documents"
    refused    unanswerable questions answered "not in the documents"
    marked@1   the phrase marked in the first quote overlaps the short answer (of those marked)
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import DatasetError
from qa.types import Answer

TYPES = ("who", "what", "when", "where", "quantity", "why")


@dataclass(frozen=True)
class AnswerCase:
    """One question of an answer set."""

    id: str
    type: str
    question: str
    answerable: bool
    answer: str | None = None
    evidence: str | None = None
    article: str | None = None
    split: str = "dev"
    first: str | None = None  # for a follow-up: the question asked before it


@dataclass(frozen=True)
class Outcome:
    """What one question got."""

    case: AnswerCase
    found: bool
    at1: bool
    at3: bool
    evidence: bool
    marked: bool | None  # None: nothing marked
    seconds: float  # the answer step alone, after retrieval


def load_cases(path: Path) -> list[AnswerCase]:
    """The cases of a JSON-lines file; DatasetError names the line at fault."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file — give a JSON-lines answer set, e.g. bench/questions/answers.jsonl")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = AnswerCase(**{k: row[k] for k in AnswerCase.__dataclass_fields__ if k in row})
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise DatasetError(f"{path}:{n}: not an answer case ({exc}) — see qa/eval/answers.py for the fields") from exc
        if case.answerable and not (case.answer and case.evidence):
            raise DatasetError(f"{path}:{n}: an answerable case needs its answer and evidence")
        cases.append(case)
    return cases


def norm(text: str) -> str:
    """Lower case, straight quotes, single spaces: how answers are matched."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def judge(case: AnswerCase, result: Answer, seconds: float) -> Outcome:
    """Score one answer against its case."""
    quotes = [norm(q.text) for q in result.quotes] if result.found else []
    short = norm(case.answer or "")
    at1 = bool(short) and bool(quotes) and short in quotes[0]
    at3 = bool(short) and any(short in q for q in quotes)
    wanted = norm(case.evidence or "")
    evidence = bool(wanted) and any(wanted in norm(h.text) for h in result.hits)
    marked = None
    if result.found and result.quotes and result.quotes[0].answer_end > result.quotes[0].answer_start:
        q = result.quotes[0]
        phrase = norm(q.text[q.answer_start : q.answer_end])
        marked = bool(short) and (short in phrase or phrase in short)
    return Outcome(case, result.found, at1, at3, evidence, marked, seconds)


def run_cases(lib: Any, cases: Iterable[AnswerCase], k: int, progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Ask every case as a user would (a follow-up after its first question); time the answer step."""
    outcomes = []
    for n, case in enumerate(cases, start=1):
        history = [lib.ask(case.first, k=k)] if case.first else []
        retrieved = lib.retrieve_for_answer(case.question, k=k, history=history)
        started = time.perf_counter()
        result = lib.answer_from(retrieved)
        outcomes.append(judge(case, result, time.perf_counter() - started))
        if progress:
            progress(n)
    return outcomes


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Metrics per question type and overall; unanswerable questions count only for `refused`."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups["all"].append(o)
        groups[o.case.type if o.case.answerable else "unanswerable"].append(o)
    table = {}
    for name in ("all", *TYPES, "unanswerable"):
        group = groups.get(name, [])
        answerable = [o for o in group if o.case.answerable]
        unanswerable = [o for o in group if not o.case.answerable]
        marked = [o.marked for o in answerable if o.marked is not None]
        table[name] = {
            "questions": len(group),
            "answer@1": _share([o.at1 for o in answerable]),
            "answer@3": _share([o.at3 for o in answerable]),
            "evidence@k": _share([o.evidence for o in answerable]),
            "found": _share([o.found for o in answerable]),
            "refused": _share([not o.found for o in unanswerable]),
            "marked": _share([o.marked is not None for o in answerable]),
            "marked@1": _share(marked),
            "answer ms p50": round(1000 * statistics.median(o.seconds for o in group), 3) if group else None,
        }
    return table


def format_answers_table(table: dict[str, dict[str, Any]]) -> str:
    """One row per group, one column per metric; '-' where a metric does not apply."""
    names = list(next(iter(table.values())))
    lines = ["group        " + "".join(f"{n:>14}" for n in names)]
    for group, row in table.items():
        cells = "".join(f"{'-' if row[n] is None else row[n]:>14}" for n in names)
        lines.append(f"{group:<13}{cells}")
    return "\n".join(lines)
