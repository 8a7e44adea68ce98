"""`qa eval A B C --corpus-set`: every collection x mode in one table, against reference figures.

A retrieval change is only as good as its worst collection: one table shows every collection's
nDCG@10 per mode beside the reference systems' figures, the mean of each column, and the worst gap
between qa's default mode and the best reference of a collection (the check docs/architecture.md
asks of every new signal). Reference figures come from a JSON file ({"cisi": {"bm25s": 0.393}})
or a Markdown table whose first column names the collections, such as the README beside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DatasetError

References = dict[str, dict[str, float]]  # collection -> reference system -> figure
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Row:
    """One collection: its metric per mode, the reference figures known for it, its query count."""

    name: str
    queries: int
    modes: dict[str, float]
    references: dict[str, float]

    @property
    def best_reference(self) -> float | None:
        return max(self.references.values(), default=None)

    def gap(self, mode: str) -> float | None:
        """`mode`'s figure minus the best reference's (negative: below it)."""
        best = self.best_reference
        return None if best is None or mode not in self.modes else self.modes[mode] - best


def collection_folders(paths: Iterable[Path], skipped: Callable[[Path], None] | None = None) -> list[Path]:
    """The BEIR folders among `paths` (a shell glob over a folder of collections also matches its
    README); `skipped` hears of the rest. DatasetError when none is left."""
    folders = []
    for path in paths:
        if path.is_dir() and (path / "corpus.jsonl").is_file():
            folders.append(path)
        elif skipped:
            skipped(path)
    if not folders:
        raise DatasetError("--corpus-set needs BEIR folders (corpus.jsonl, queries.jsonl, qrels/test.tsv) — none given")
    return folders


def load_references(path: Path | None, names: Sequence[str]) -> References:
    """Reference figures for the collections `names`, from a JSON file or a Markdown table; {} when
    `path` is None. A figure that is not a number ("—") is left out."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        hint = "give a JSON file or a Markdown table"
        raise DatasetError(f"{path}: cannot read reference figures ({exc.strerror}) — {hint}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
            return {n: {k: float(v) for k, v in data[n].items()} for n in names if n in data}
        except (ValueError, AttributeError, TypeError) as exc:
            raise DatasetError(f'{path}: not {{"collection": {{"system": figure}}}} JSON ({exc})') from None
    return markdown_references(text, names)


def markdown_references(text: str, names: Sequence[str]) -> References:
    """Figures from every Markdown table whose first column names one of `names` (`cisi`,
    `` `cisi/` ``); its header row names the systems. A cell's first number is its figure when it
    is a fraction between 0 and 1 written with a decimal point, as nDCG, recall and MRR are: the
    document and query counts of a table describing the collections are not figures."""
    out: References = {}
    header: list[str] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
        if not cells:
            header = []
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the |---|---| rule under a header
        name = cells[0].strip("`/ ")
        if name not in names:
            header = header or cells  # the first row of a table is its header
            continue
        for system, cell in zip(header[1:], cells[1:], strict=False):
            number = _NUMBER.search(cell)
            value = float(number.group().replace(",", "")) if number and "." in number.group() else None
            if value is not None and 0 <= value <= 1 and system.strip():
                out.setdefault(name, {})[_system_name(system)] = value
    return out


def _system_name(header: str) -> str:
    """A short name for a reference column: its first word ("bm25s (en stopwords)" is bm25s)."""
    return header.replace("(", " ").split()[0]


def rows(
    results: Mapping[str, Mapping[str, Mapping[str, float]]], queries: Mapping[str, int], references: References, metric: str
) -> list[Row]:
    """One Row per collection from `results[collection][mode][metric]`."""
    return [
        Row(name, queries[name], {m: float(v[metric]) for m, v in by_mode.items()}, dict(references.get(name, {})))
        for name, by_mode in results.items()
    ]


def summary(table: list[Row], mode: str) -> dict[str, object]:
    """Mean of every mode and of the best references, and the worst gap of `mode` to the best reference."""
    modes = list(table[0].modes) if table else []
    means = {m: mean_of(r.modes.get(m) for r in table) for m in modes}
    gaps = {r.name: r.gap(mode) for r in table}
    known = {n: g for n, g in gaps.items() if g is not None}
    worst = min(known, key=lambda n: known[n]) if known else None
    best = [r.best_reference for r in table]
    return {
        "mean": means,
        "mean_best_reference": mean_of(best) if all(b is not None for b in best) and best else None,
        "gaps": {n: None if g is None else round(g, 4) for n, g in gaps.items()},
        "worst": {"collection": worst, "gap": round(known[worst], 4)} if worst else None,
    }


def mean_of(values: Iterable[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else float("nan")
