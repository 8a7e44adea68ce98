"""Evidence export: an answer or a claim check as Markdown, CSV or JSON, for a fact-checker's file.

Each piece of evidence is one quoted sentence with where it stands: the file, its date, the lines
(page for PDF) and characters holding the words, the words themselves, and the file's SHA-256 with
the index generation the citation was read from. With those, anyone can open the file again and
find the words, or see from the hash that the file has changed since.

    text, media_type, filename = export(lib.ask("Who requested the call?"), "csv")
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from typing import Any

from qa.answer.check import Check
from qa.errors import ConfigError
from qa.text import line_breaks, line_of
from qa.types import Answer, Citation, Hit, where

__all__ = ["FORMATS", "Evidence", "evidence", "export", "to_csv", "to_json", "to_markdown"]

FORMATS = ("md", "csv", "json")
MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8", "json": "application/json"}
COLUMNS = (
    "n", "kind", "file", "title", "section", "date", "date_source", "line_start", "line_end", "page", "ocr", "start", "end",
    "quote", "sha256", "generation",
)  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"); such a
# cell gets a leading apostrophe, which spreadsheets read as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one; csv and pandas take "utf-8-sig"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Evidence(Citation):
    """One quoted sentence and where it stands. Invariant: document.text[start:end] == quote.

    `kind` is "quote" (a sentence of an answer), "closest" (the best sentence of a passage when the
    documents do not answer), "occurrence" (where a checked quote occurs) or "passage" (the best
    supporting sentence of a passage related to a checked claim); `n` is its marker [n].
    """

    n: int
    kind: str
    quote: str


def evidence(result: Answer | Check) -> list[Evidence]:
    """The evidence rows of an answer (its quotes) or of a check (occurrences, then related passages)."""
    if isinstance(result, Check):
        found = [_row(i, "occurrence", o, o.text, o.start) for i, o in enumerate(result.occurrences, 1)]
        related = [_from_hit(len(found) + i, "passage", h) for i, h in enumerate(result.passages, 1)]
        return found + related
    if not result.quotes:
        return [_from_hit(h.rank, "closest", h) for h in result.hits]
    by_rank = {h.rank: h for h in result.hits}
    return [_within(by_rank[q.marker], q.marker, "quote", q.start, q.end) for q in result.quotes]


def _from_hit(n: int, kind: str, hit: Hit) -> Evidence:
    return _within(hit, n, kind, hit.start + hit.sentence_start, hit.start + hit.sentence_end)


def _within(hit: Hit, n: int, kind: str, start: int, end: int) -> Evidence:
    """Characters start..end of the document, inside the passage `hit`, with their own lines."""
    breaks = line_breaks(hit.text)
    first, last = start - hit.start, max(start, end - 1) - hit.start
    at = dataclasses.replace(
        hit.citation, line_start=hit.line_start + line_of(breaks, first) - 1, line_end=hit.line_start + line_of(breaks, last) - 1
    )
    return _row(n, kind, at, hit.text[first : end - hit.start], start)


def _row(n: int, kind: str, at: Citation, quote: str, start: int) -> Evidence:
    return Evidence(**{**vars(at.citation), "start": start, "end": start + len(quote)}, n=n, kind=kind, quote=quote)


def generation(rows: list[Evidence]) -> str:
    """The index generation the rows were read from ("" when there are none)."""
    return next((r.generation for r in rows if r.generation), "")


# -- CSV --------------------------------------------------------------------------------------


def spreadsheet_safe(value: object) -> str:
    """The cell as text, with an apostrophe in front when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(result: Answer | Check) -> str:
    """One row per piece of evidence, columns COLUMNS; safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in evidence(result):
        values = {**row.to_json(), "file": row.source, "ocr": "yes" if row.ocr else ""}
        writer.writerow([spreadsheet_safe(values[c]) for c in COLUMNS])
    return BOM + out.getvalue()


# -- JSON -------------------------------------------------------------------------------------


def to_json(result: Answer | Check) -> dict[str, Any]:
    """The result's own JSON (`qa ask --json`, `qa check --json`) with the evidence rows and the generation."""
    rows = evidence(result)
    return {
        **result.to_json(),
        "kind": "check" if isinstance(result, Check) else "answer",
        "generation": generation(rows),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "evidence": [{**r.to_json(), "file": r.source} for r in rows],
    }


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Document text as Markdown that shows it as written: no emphasis, links, HTML or headings."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _MD_SPECIAL.sub(r"\\\1", text))


def _blockquote(row: Evidence) -> str:
    lines = md_escape(row.quote).splitlines() or [""]
    lines[-1] += f" [{row.n}]"
    return "\n".join("> " + line if line.strip() else ">" for line in lines)


def _lines(row: Evidence) -> str:
    under = f", under “{md_escape(row.section)}”" if row.section else ""
    return f"{where(row, dash='–')}, characters {row.start}–{row.end}{under}"


def _citations(rows: list[Evidence]) -> list[str]:
    """The citation list: each marker once, with its file, title, date and hash, then where each of
    its quotes stands."""
    out = ["## Citations", ""]
    for n in dict.fromkeys(r.n for r in rows):
        mine = [r for r in rows if r.n == n]
        first = mine[0]
        title = f" — {md_escape(first.title)}" if first.title else ""
        out.append(f"[{n}] **{md_escape(first.source)}**{title}  ")
        out.append(f"    dated {first.dated}; sha256 `{first.sha256 or 'unknown'}`  ")
        out += [f"    {_lines(r)}  " for r in mine]
        out[-1] = out[-1].rstrip()
        out.append("")
    return out


def _quotes(heading: str, rows: list[Evidence]) -> list[str]:
    return [f"## {heading}", "", *(f"{_blockquote(r)}\n" for r in rows)] if rows else []


def to_markdown(result: Answer | Check) -> str:
    """The quotes with their citation list, as a Markdown document."""
    rows = evidence(result)
    if isinstance(result, Check):
        head = [f"# Claim check: {md_escape(result.text)}", "", f"**{result.label}.** {md_escape(result.note)}", ""]
        body = _quotes("Where it occurs (oldest first)", [r for r in rows if r.kind == "occurrence"])
        body += _quotes("Related passages (best supporting sentence)", [r for r in rows if r.kind == "passage"])
    else:
        head = [f"# {md_escape(result.question)}", ""] + ([md_escape(result.text), ""] if not result.found else [])
        body = _quotes("Answer" if result.quotes else "Closest passages", rows)
    body += _citations(rows) if rows else []
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    foot = f"Index generation {generation(rows) or 'unknown'}; exported by qa on {when}."
    return "\n".join([*head, *body, foot]) + "\n"


# -- one entry point ---------------------------------------------------------------------------


def filename(result: Answer | Check, fmt: str) -> str:
    """A plain file name from the question or claim: qa-answer-who-requested-the-call.csv."""
    words = re.findall(r"[a-z0-9]+", (result.text if isinstance(result, Check) else result.question).lower())
    slug = "-".join(words)[:48].strip("-") or "evidence"
    return f"qa-{'check' if isinstance(result, Check) else 'answer'}-{slug}.{fmt}"


def export(result: Answer | Check, fmt: str) -> tuple[str, str, str]:
    """(text, media type, file name) of `result` in `fmt`: "md", "csv" or "json"."""
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r} is not one of {', '.join(FORMATS)} — use one of them")
    if fmt == "json":
        text = json.dumps(to_json(result), ensure_ascii=False, indent=2)
    else:
        text = to_csv(result) if fmt == "csv" else to_markdown(result)
    return text, MEDIA_TYPES[fmt], filename(result, fmt)
