"""When a question seems to lean on the answer before, search it alone or with that answer's terms?

    .venv/bin/python bench/follow_tune.py --set bench/questions/followups.jsonl ARTICLES NEWS_INDEX \\
        --set bench/questions/answers.jsonl ARTICLES NEWS_INDEX \\
        --set bench/questions/notes.jsonl bench/questions/notes NOTES_INDEX

qa.answer.follow.leans_on_before flags a question that points back ("his", "it", "that"), opens as
a continuation ("and ...", "what about ...") or has at most two words of its own. Many questions
that stand alone are flagged too ("What did the minister say about his plan?"), and in the chat
every question after the first has an answer before it. So Library.retrieve_for_answer searches a
flagged question both ways and keeps the carried search unless the answer step is surer of the
search alone by more than FOLLOW_MARGIN (the logit of "found", qa/answer/confidence.py).

This replays that choice for a range of margins: each follow-up after its own first question, and
each question of the other sets after the question before it in the file (another story, as in a
chat that moves on). Reports answer@1 / answer@3 / found (and refused) per set and half for each
margin; -inf is "never carry", inf "always" (as before this choice).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import Library
from qa.answer.extract import confidence_of
from qa.answer.follow import follow_up
from qa.eval.answers import AnswerCase, Outcome, judge, load_cases
from qa.library import clean_question

MARGINS = (-math.inf, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, math.inf)


@dataclass(frozen=True)
class Both:
    case: AnswerCase
    flagged: bool
    sure: tuple[float, float]  # (alone, carried)
    outcome: tuple[Outcome, Outcome]


def replay(lib: Library, cases: list[AnswerCase], k: int) -> list[Both]:
    out = []
    before: AnswerCase | None = None
    for case in cases:
        first = case.first or (before.question if before else None)
        before = case
        history = [lib.ask(first, k=k)] if first else []
        cleaned = clean_question(case.question)
        searched = follow_up(cleaned, history)
        alone = lib._with_query(lib.retrieve_for_answer(cleaned, k=k))
        carried = lib._with_query(lib.retrieve_for_answer(searched, k=k)) if searched != cleaned else alone
        sure = (confidence_of(alone), confidence_of(carried))
        outcome = (judge(case, lib.answer_from(alone), 0.0), judge(case, lib.answer_from(carried), 0.0))
        out.append(Both(case, searched != cleaned, sure, outcome))
    return out


def score(rows: list[Both], margin: float) -> dict[str, float | int | None]:
    chosen = [b.outcome[1] if b.sure[1] + margin >= b.sure[0] else b.outcome[0] for b in rows]
    answerable = [o for o in chosen if o.case.answerable]
    unanswerable = [o for o in chosen if not o.case.answerable]
    share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "answerable": len(answerable),
        "answer@1": share([o.at1 for o in answerable]),
        "answer@3": share([o.at3 for o in answerable]),
        "found": share([o.found for o in answerable]),
        "refused": share([not o.found for o in unanswerable]),
        "flagged": sum(b.flagged for b in rows),
        "carried": sum(b.flagged and b.sure[1] + margin >= b.sure[0] for b in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs=3, action="append", metavar=("JSONL", "CORPUS", "INDEX"), required=True)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    report: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for jsonl, corpus, index in args.set:
        lib = Library.open(index)
        lib.sync(corpus)
        cases = load_cases(Path(jsonl))
        for half in ("dev", "test"):
            rows = replay(lib, [c for c in cases if c.split == half], args.k)
            report[f"{Path(jsonl).stem} {half}"] = {str(m): score(rows, m) for m in MARGINS}
        lib.close()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
