"""When a question seems to lean on the answer before, search it alone or with that answer's terms?

    .venv/bin/python bench/follow_tune.py --set bench/questions/followups.jsonl ARTICLES NEWS_INDEX \\
        --set bench/questions/answers.jsonl ARTICLES NEWS_INDEX \\
        --set bench/questions/notes.jsonl bench/questions/notes NOTES_INDEX

qa.answer.follow.leans_on_before flags a question that points back ("his", "it", "that"), opens as
a continuation ("and ...", "what about ...") or has at most two words of its own. Many questions
that stand alone are flagged too ("What did the minister say about his plan?"), and in the chat
every question after the first has an answer before it. So Library.retrieve_for_answer carries a
flagged question that points back and names nothing the turn before did not ("Which journal
carried it?"), and searches any other flagged one both ways, keeping the carried search when the
answer step is surer of it by at least FOLLOW_MARGIN (the logit of "found", qa/answer/confidence.py). The
carried search lifts the documents the turn before quoted by fusion.Weights.conversation_boost
(--conversation-boost to try another).

This replays that choice for a range of margins: each follow-up after its own first question, and
each question of the other sets after the question before it in the file (another story, as in a
chat that moves on). Reports answer@1 / answer@3 / evidence@k / found (and refused) per set and
half for each margin; inf carries only the questions that only follow, -inf every flagged one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import Library
from qa.answer.extract import confidence_of
from qa.answer.follow import conversation, follow_up, only_follows
from qa.eval.answers import AnswerCase, Outcome, judge, load_cases
from qa.library import clean_question
from qa.search import fusion, retrieve
from qa.search.retrieve import SearchRequest

MARGINS = (-math.inf, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, math.inf)


@dataclass(frozen=True)
class Both:
    case: AnswerCase
    flagged: bool
    only: bool  # it only follows (follow.only_follows): carried without a comparison
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
        request = SearchRequest(searched, k, prefer=conversation(history))
        carried = lib._with_query(lib._search(searched, request, None, None)) if searched != cleaned else alone
        sure = (confidence_of(alone), confidence_of(carried))
        outcome = (judge(case, lib.answer_from(alone), 0.0), judge(case, lib.answer_from(carried), 0.0))
        out.append(Both(case, searched != cleaned, only_follows(cleaned, history), sure, outcome))
    return out


def carries(b: Both, margin: float) -> bool:
    """Library.retrieve_for_answer's choice: carried when the question only follows, else when the
    answer step is surer of the carried search by at least `margin`."""
    return b.only or b.sure[1] >= b.sure[0] + margin


def score(rows: list[Both], margin: float) -> dict[str, float | int | None]:
    chosen = [b.outcome[1] if carries(b, margin) else b.outcome[0] for b in rows]
    answerable = [o for o in chosen if o.case.answerable]
    unanswerable = [o for o in chosen if not o.case.answerable]
    share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "answerable": len(answerable),
        "answer@1": share([o.at1 for o in answerable]),
        "answer@3": share([o.at3 for o in answerable]),
        "evidence": share([o.evidence for o in answerable]),
        "found": share([o.found for o in answerable]),
        "refused": share([not o.found for o in unanswerable]),
        "flagged": sum(b.flagged for b in rows),
        "carried": sum(b.flagged and carries(b, margin) for b in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs=3, action="append", metavar=("JSONL", "CORPUS", "INDEX"), required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--conversation-boost", type=float, default=fusion.DEFAULT.conversation_boost,
                        help="lift of the passages of the documents the turn before quoted (fusion.Weights)")
    args = parser.parse_args()
    weights = dataclasses.replace(fusion.DEFAULT, conversation_boost=args.conversation_boost)
    retrieve.search.__defaults__ = (weights,)  # the search Library calls, with this lift
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
