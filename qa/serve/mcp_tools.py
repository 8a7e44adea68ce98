"""The MCP server (the official `mcp` SDK): tools an agent calls to search the documents and quote them.

    qa mcp                  # over stdio, for a desktop client that starts it
    qa serve / qa chat      # the same tools over streamable HTTP at /mcp, behind the API's access rules

Each tool answers twice: text a model can quote as it stands (every passage numbered, with its
file, date, lines or page, and the exact sentence) and the same data as structured JSON.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from qa import config
from qa.answer.check import Check, check
from qa.answer.follow import Turn
from qa.errors import DocumentNotFound, FolderMissing, QAError
from qa.library import MAX_QUESTION_CHARS, Library
from qa.serve.schemas import MAX_K, MAX_SOURCE_CHARS, Mode
from qa.serve.service import Service
from qa.text import line_breaks
from qa.types import Answer, Citation, Document, Hit, describe_date, where

INSTRUCTIONS = """Search a folder of documents and quote them. Every passage comes with its citation:
the file, its date, the lines (and page, for PDF) and the exact sentence. Quote sentences word for
word and give their citation; say so when the documents do not answer."""
MAX_LINES = 400  # lines get_document returns at once; ask for the next range for more
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="the question, in plain words")]
Claim = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, description='a claim, or text with a "quoted part"')]
K = Annotated[int, Field(ge=1, le=MAX_K, description="how many passages")]
Day = Annotated[dt.date | None, Field(description="YYYY-MM-DD: only documents dated on or after / before it")]
Follows = Annotated[
    str | None, Field(max_length=2 * MAX_QUESTION_CHARS, description="for a follow-up: the question asked before (as searched)")
]
Sources = Annotated[
    list[Annotated[str, Field(max_length=MAX_SOURCE_CHARS)]] | None,
    Field(max_length=MAX_K, description="for a follow-up: the source of each quote of the answer before"),
]


def cite(n: int, c: Citation) -> str:
    """'[1] file.txt, 2021-12-31 (header), lines 3-5' — the head of a numbered citation."""
    section = f", section “{c.section}”" if c.section else ""
    return f"[{n}] {c.source}, {c.dated}, {where(c)}{section}"


def hits_text(hits: tuple[Hit, ...] | list[Hit]) -> str:
    """Every hit as its citation, its best sentence quoted, then the whole passage."""
    if not hits:
        return "No passage matches."
    return "\n\n".join(f"{cite(h.rank, h)}\nsentence: “{h.sentence}”\npassage: {h.text}" for h in hits)


def answer_text(answer: Answer) -> str:
    head = answer.text  # when nothing answers, it says so and the hits are the closest passages
    note = f"\n({answer.date_note})" if answer.date_note else ""
    return f"{head}{note}\n\nSources:\n{hits_text(answer.hits)}"


def check_text(result: Check) -> str:
    found = "\n".join(f"{cite(i, o)}: “{o.text}” ({o.ratio:.0f}% match)" for i, o in enumerate(result.occurrences, 1))
    related = zip(result.passages, result.support, strict=True)
    passages = "\n\n".join(f"{cite(h.rank, h)} (similarity {s:.2f})\nsentence: “{h.sentence}”" for h, s in related)
    return (
        f"{result.label}: {result.note}\n\nOccurrences (oldest first):\n{found or 'Not found as written.'}"
        f"\n\nRelated passages:\n{passages or 'none'}"
    )


def page_text(doc: Document, page: int | None) -> tuple[str, int, int]:
    """The text lines are counted in, its offset in the document, and the page it is (0: no pages):
    a PDF's lines are counted from the top of each page, as its citations count them."""
    if not doc.pages:
        return doc.text, 0, 0
    page = min(max(1, page or 1), len(doc.pages))
    end = doc.pages[page] if page < len(doc.pages) else len(doc.text)
    return doc.text[doc.pages[page - 1] : end], doc.pages[page - 1], page


def lines_of(text: str, first: int, last: int | None) -> tuple[list[str], int, int, int]:
    """Lines first..last of `text` (1-based, inclusive, breaks as qa.text counts them, at most
    MAX_LINES), the range given, and the count of lines."""
    starts = [0, *(b + 1 for b in line_breaks(text))]
    total = len(starts)
    first = min(max(1, first), total)
    last = max(first, min(total, last or total, first + MAX_LINES - 1))
    ends = [*(s - 1 for s in starts[1:]), len(text)]
    return [text[starts[n - 1] : ends[n - 1]].rstrip("\r\n") for n in range(first, last + 1)], first, last, total


def result(text: str, data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def build_mcp(service: Service) -> MCPServer:
    """The four tools over one Service; the same object serves stdio and HTTP."""
    server = MCPServer("qa", instructions=INSTRUCTIONS, version="1", log_level="WARNING")
    lib = service.lib

    def read(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=READ_ONLY)
    def retrieve(
        question: Question, k: K = config.DEFAULT_K, since: Day = None, until: Day = None, mode: Mode = config.MODES[0]
    ) -> CallToolResult:
        """The passages that best match a question, best first, each with its citation (file, date,
        lines or page) and its best sentence."""
        hits = read(lib.retrieve, question, k=k, since=since, until=until, mode=mode)
        return result(hits_text(hits), {"hits": [h.to_json() for h in hits]})

    @server.tool(annotations=READ_ONLY)
    def ask(
        question: Question,
        k: K = config.DEFAULT_K,
        since: Day = None,
        until: Day = None,
        follows: Follows = None,
        follows_sources: Sources = None,
    ) -> CallToolResult:
        """An answer quoted from the documents: each sentence followed by [n], the number of its source below.
        For a follow-up ("and what did he say about sanctions?"), give the question asked before and the
        sources its answer quoted: it is searched with that question's key terms and those documents preferred."""
        history = [Turn(follows, follows, bool(follows_sources), tuple(follows_sources or ()))] if follows else []
        answer = read(lib.ask, question, k=k, since=since, until=until, history=history)
        return result(answer_text(answer), answer.to_json())

    @server.tool(annotations=READ_ONLY)
    def check_claim(text: Claim, k: K = config.DEFAULT_K) -> CallToolResult:
        """Where a claim or a quote occurs in the documents, verbatim or nearly (oldest first), and the
        most similar passages. It never judges a contradiction."""
        checked = read(check, lib, text, k=k)
        return result(check_text(checked), dict(checked.to_json()))

    @server.tool(annotations=READ_ONLY)
    def get_document(
        source: Annotated[str, Field(min_length=1, description="the file as citations name it")],
        page: Annotated[int | None, Field(ge=1, description="a PDF's page (default 1): its lines count from its top")] = None,
        line_start: Annotated[int, Field(ge=1)] = 1,
        line_end: Annotated[int | None, Field(ge=1, description=f"default: the end, at most {MAX_LINES} lines")] = None,
    ) -> CallToolResult:
        """A document's lines, numbered as citations number them (a PDF's page by page), with its date and title."""
        doc = read(lib.document, source)
        if doc is None:
            raise ToolError(str(DocumentNotFound(f"{source!r} is not in the index — use a source a citation names")))
        text, _, at_page = page_text(doc, page)
        lines, first, last, total = lines_of(text, line_start, line_end)
        where_ = f"page {at_page} of {len(doc.pages)}, " if at_page else ""
        head = f"{doc.path}, {describe_date(doc.date, doc.date_source)}, {where_}lines {first}-{last} of {total}"
        body = "\n".join(f"{n}: {line}" for n, line in enumerate(lines, first))
        data = {"source": doc.path, "date": doc.date.isoformat() if doc.date else None, "date_source": doc.date_source,
                "title": doc.title, "sha256": doc.sha256, "page": at_page or None,
                "line_start": first, "line_end": last, "lines": total, "text": "\n".join(lines)}  # fmt: skip
        return result(f"{head}{' — ' + doc.title if doc.title else ''}\n{body}", data)

    return server


def serve_stdio(folder: str | os.PathLike[str] | None, index_dir: str | os.PathLike[str] | None) -> None:
    """`qa mcp`: the tools over stdin/stdout for a client that starts this process. stdout carries
    the protocol only: whatever qa says goes to stderr."""
    lib = Library.open(index_dir)
    root = Path(folder).resolve() if folder else lib.folder
    if root is None:
        raise FolderMissing(f"No folder indexed in {config.index_dir(index_dir)}: give one, e.g. qa mcp seeds/")
    if folder:
        report = lib.sync(root)
        print(f"qa mcp: {report.added} added, {report.changed} changed, {report.removed} removed; "
              f"{report.chunks_encoded} passages encoded", file=sys.stderr)  # fmt: skip
    lib.warm()
    print(f"qa mcp: serving {root} (index {lib.store.root}) on stdio", file=sys.stderr, flush=True)
    build_mcp(Service(lib, root)).run("stdio")
