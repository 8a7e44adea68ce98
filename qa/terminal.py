"""What the terminal shows: progress bars, and hits, claim checks and evaluation tables as plain text.

Used by qa.cli and by `qa chat`'s start-up sync; nothing here reads an index or parses arguments.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import TYPE_CHECKING, Any

from qa.eval.collections import Row, mean_of, summary
from qa.ingest.sync import Progress
from qa.types import SECTION_SEPARATOR, Answer, Hit, Quote, Skipped, SyncReport

if TYPE_CHECKING:
    from qa.watch import Synced

MAX_NAMED = 5  # files named in a watcher's line; more are counted


def progress_bar(quiet: bool = False) -> Progress | None:
    """A tqdm bar per sync stage on stderr, or None when `quiet`."""
    if quiet:
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="file" if stage == "chunk" else "passage", file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


BOLD, PLAIN = "\033[1m", "\033[0m"


def wants_colour(stream: Any) -> bool:
    """True for a terminal that shows colour: a TTY, with neither NO_COLOR (no-color.org) nor TERM=dumb."""
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def format_answer(answer: Answer, highlight: bool) -> str:
    """The answer's text; with `highlight` (a terminal that shows colour), each quote's answering
    phrase in bold."""
    if not highlight or not any(q.answer for q in answer.quotes):
        return answer.text

    def bold(q: Quote) -> str:
        before, phrase, after = q.around
        return f"{before}{BOLD}{phrase}{PLAIN}{after}" if phrase else q.text

    return " ".join(f"{bold(q)} [{q.marker}]" for q in answer.quotes)


def format_hit(hit: Hit) -> str:
    where = f"page {hit.page}{' (OCR)' if hit.ocr else ''}, " if hit.page else ""
    source = f"{hit.source}{SECTION_SEPARATOR}{hit.section}" if hit.section else hit.source
    head = f"[{hit.rank}] {source}:{hit.line_start}-{hit.line_end} · {where}{hit.dated} · score {hit.score:.4f}"
    also = "".join(f"\n    also in {d.source}:{d.line_start}-{d.line_end} · {d.dated}" for d in hit.duplicates)
    body = "\n".join("    " + line for line in hit.text.splitlines() if line.strip())
    return f"{head}{also}\n{body}"


def format_check(c: Any) -> str:
    """A qa.answer.check.Check: label, occurrences oldest first, passages, note."""
    lines = [f"{c.label}: " + " / ".join(f"“{q}”" for q in c.quotes)]
    for o in c.occurrences:
        page = f" page {o.page}{' (OCR)' if o.ocr else ''}," if o.page else ""
        where = f"{o.source} {o.dated}{page} lines {o.line_start}-{o.line_end}"
        lines.append(f"  {o.ratio:5.1f}  {where} chars {o.start}-{o.end}: {o.text!r}")
        lines += [f"         quote “{d.quote}” / document “{d.document}”" for d in o.differences]
    for i, (h, s) in enumerate(zip(c.passages, c.support, strict=True), 1):
        mark = "*" if i - 1 == c.best else " "
        lines.append(
            f" {mark}[{i}] {h.source} {h.dated} lines {h.line_start}-"
            f"{h.line_end} (similarity {s:.2f}): {h.sentence.strip()}"
        )
    lines.append(c.note)
    return "\n".join(lines)


def format_table(results: dict[str, dict[str, float]], queries: int) -> str:
    """One row per mode, one column per metric."""
    names = next(iter(results.values())).keys()
    lines = [f"{queries} queries", "mode     " + "".join(f"{n:>12}" for n in names)]
    for mode, metrics in results.items():
        lines.append(f"{mode:<9}" + "".join(f"{metrics[n]:>12.4f}" for n in names))
    return "\n".join(lines)


def sync_counts(report: SyncReport) -> str:
    """What a sync did to the files and how many passages it encoded (the servers print this at start)."""
    return (
        f"{report.added} added, {report.changed} changed, {report.removed} removed, {report.unchanged} unchanged; "
        f"{report.chunks_encoded} passages encoded"
    )


def format_report(report: SyncReport, index: object) -> str:
    """What a sync did, in one line (qa index, qa watch)."""
    return f"{sync_counts(report)}, {report.chunks_reused} reused; index: {index}"


def format_synced(synced: Synced) -> str:
    """A watcher's line: the time, the files by name (counted past MAX_NAMED), passages encoded and reused,
    the generation now served."""
    named = [f"renamed {old} -> {new}" for old, new in synced.renamed]
    for what, names in (("added", synced.added), ("changed", synced.changed), ("removed", synced.removed)):
        named += [f"{what} {name}" for name in names] if len(names) <= MAX_NAMED else [f"{what} {len(names)} files"]
    r = synced.report
    return f"{stamp()} {'; '.join(named)}; {passages(r.chunks_encoded)} encoded, {r.chunks_reused} reused; {synced.generation}"


def passages(n: int) -> str:
    return f"{n} passage" if n == 1 else f"{n} passages"


def format_skipped(skipped: Skipped) -> str:
    """A watcher's line for a file it could not index, and why."""
    return f"{stamp()} skipped {skipped.path}: {skipped.reason}"


def stamp() -> str:
    """The local time, at the start of a watcher's line."""
    return dt.datetime.now().strftime("%H:%M:%S")


def log(message: str) -> None:
    """A progress line on stderr, shown at once."""
    print(message, file=sys.stderr, flush=True)


def format_collections(table: list[Row], mode: str, metric: str) -> str:
    """Collections down; modes, then reference systems, across; a mean row; the worst gap of `mode`."""
    modes = list(table[0].modes) if table else []
    systems = list(dict.fromkeys(s for r in table for s in r.references))
    head = ["collection", "queries", *modes, *systems, "best ref", f"{mode} - best"]
    lines = [
        [r.name, str(r.queries), *(_cell(r.modes.get(m)) for m in modes), *(_cell(r.references.get(s)) for s in systems),
         _cell(r.best_reference), _cell(r.gap(mode), signed=True)]
        for r in table
    ]  # fmt: skip
    s = summary(table, mode)
    means: dict[str, float] = s["mean"]  # type: ignore[assignment]
    best = s["mean_best_reference"] if isinstance(s["mean_best_reference"], float) else None
    lines.append(
        ["mean", str(sum(r.queries for r in table)), *(_cell(means[m]) for m in modes),
         *(_cell(mean_of(r.references.get(x) for r in table)) for x in systems), _cell(best),
         _cell(means[mode] - best if best is not None and mode in means else None, signed=True)]
    )  # fmt: skip
    widths = [max(len(x) for x in column) for column in zip(head, *lines, strict=True)]
    text = [f"{metric}, documents ranked by their best passage", *(_aligned(line, widths) for line in [head, *lines])]
    worst = s["worst"]
    if isinstance(worst, dict):
        text.append(f"worst gap of {mode} to the best reference: {worst['gap']:+.4f} ({worst['collection']})")
    return "\n".join(text)


def _aligned(cells: list[str], widths: list[int]) -> str:
    """The first cell left-aligned, the rest right-aligned, two spaces apart."""
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _cell(value: float | None, signed: bool = False) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
