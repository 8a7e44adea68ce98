"""Check a question file (JSON lines) against its documents: python bench/questions/validate.py FILE [FOLDER].

FOLDER holds the documents (default /tmp/news); `article` is a news id (FOLDER/ID.txt) or a file name.

Answerable rows: the evidence sentence stands verbatim in the article, the short answer stands in the
evidence, and the question copies no run of three words from the evidence except names and numbers.
Unanswerable rows: answerable is false and answer, evidence, article are null.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TYPES = {"who", "what", "when", "where", "quantity", "why"}
STOP = set(
    "a an the of in on at to for by with and or is was were are be been has have had did do does from as that this it its".split()
)
WORD = re.compile(r"[\w']+")


def copied_runs(question: str, evidence: str, n: int = 3) -> list[str]:
    """Runs of n words shared by question and evidence, ignoring runs of capitalised words or numbers."""
    q, e = WORD.findall(question), WORD.findall(evidence)
    grams = {tuple(w.lower() for w in e[i : i + n]) for i in range(len(e) - n + 1)}
    runs = []
    for i in range(len(q) - n + 1):
        gram = q[i : i + n]
        if tuple(w.lower() for w in gram) not in grams:
            continue
        content = [w for w in gram if w.lower() not in STOP]
        if all(w[0].isupper() or w[0].isdigit() for w in content):
            continue  # a name, a title or a number
        runs.append(" ".join(gram))
    return runs


def check_fields(row: dict) -> list[str]:
    problems = [f"missing {field}" for field in ("id", "type", "question", "answerable", "split") if field not in row]
    if row.get("type") not in TYPES:
        problems.append(f"type {row.get('type')!r} not in {sorted(TYPES)}")
    if row.get("split") not in ("dev", "test"):
        problems.append("split must be dev or test")
    return problems


def check(row: dict, news: Path) -> list[str]:
    problems = check_fields(row)
    if not row.get("answerable"):
        if any(row.get(f) is not None for f in ("answer", "evidence", "article")):
            problems.append("unanswerable rows have answer, evidence and article null")
        return problems
    article = str(row.get("article"))
    path = news / (article if Path(article).suffix else f"{article}.txt")  # a news id, or a file name
    if not path.exists():
        return [*problems, f"no article {row.get('article')}"]
    text = path.read_text(encoding="utf-8")
    evidence, answer = row.get("evidence") or "", row.get("answer") or ""
    if evidence not in text:
        problems.append("evidence not verbatim in the article")
    if not answer or answer not in evidence:
        problems.append("answer not verbatim in the evidence")
    if answer and answer.lower() in row["question"].lower():
        problems.append("the question contains its answer")
    runs = copied_runs(row["question"], evidence)
    if runs:
        problems.append(f"copied from the evidence: {runs}")
    return problems


def main() -> int:
    path = Path(sys.argv[1])
    news = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/news")
    bad = 0
    ids = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        problems = check(row, news)
        if row.get("id") in ids:
            problems.append("duplicate id")
        ids.add(row.get("id"))
        if problems:
            bad += 1
            print(f"{path}:{n} {row.get('id')}: {'; '.join(problems)}")
    print(f"{len(ids)} rows, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
