"""The MCP tools through the official SDK's own client: over stdio (a `qa mcp` process on the seeds'
index) and over streamable HTTP (/mcp on the session's `qa chat`, behind its login). Each tool is
listed and called; each answer carries citations a model can quote, checked against the files.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from qa.library import Library
from qa.serve.mcp_tools import MAX_LINES, lines_of, page_text
from qa.text import Lines
from qa.types import Document
from tests.conftest import BIDEN, SEEDS
from tests.test_app import AUTH, QUESTION, shared_server

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

TOOLS = {"retrieve", "ask", "check_claim", "get_document"}
CITED = re.compile(r"^\[(\d+)\] (\S+), (\d{4}-\d\d-\d\d|undated)(?: \([a-z ]+\))?, (?:page \d+, )?lines? (\d+)(?:-(\d+))?", re.M)


def file_lines(source: str, first: int, last: int) -> str:
    return "\n".join((SEEDS / source).read_text().split("\n")[first - 1 : last])


async def every_tool(client: Client, want: list[dict[str, Any]]) -> None:
    """List the tools, call each, and check what a model would quote against the files; `want`: the
    hits the Python API or the REST API gives for QUESTION, k=3."""
    listed = (await client.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    assert all(t.description and t.input_schema["properties"] for t in listed)

    found = await client.call_tool("retrieve", {"question": QUESTION, "k": 3})
    assert not found.is_error
    text = found.content[0].text
    assert found.structured_content == {"hits": want}
    heads = CITED.findall(text)
    assert [int(n) for n, *_ in heads] == [1, 2, 3] and heads[0][1] == BIDEN and heads[0][2] == "2021-12-31"
    for (_, source, _, first, last), hit in zip(heads, found.structured_content["hits"], strict=True):
        assert f"sentence: “{hit['sentence']}”" in text
        assert hit["sentence"] in file_lines(source, int(first), int(last or first))  # the exact words, at those lines

    answer = await client.call_tool("ask", {"question": QUESTION, "k": 3})
    assert "[1]" in answer.content[0].text and "Sources:" in answer.content[0].text
    assert answer.structured_content["found"] and answer.structured_content["hits"][0]["source"] == BIDEN
    sources = [q["source"] for q in answer.structured_content["quotes"]]
    follow = {"question": "And what did he say about sanctions?", "follows": QUESTION, "follows_sources": sources}
    then = (await client.call_tool("ask", follow)).structured_content
    assert then["searched"].startswith("And what did he say about sanctions? ") and then["hits"][0]["source"] == BIDEN

    claim = await client.call_tool("check_claim", {"text": 'Biden warned of "serious costs and consequences"'})
    assert claim.content[0].text.startswith("quoted verbatim:")
    first = rf"\[1\] {re.escape(BIDEN)}, 2021-12-31 \(header\), line (\d+): “serious costs and consequences”"
    line = re.search(first, claim.content[0].text)
    assert line and "serious costs and consequences" in file_lines(BIDEN, int(line[1]), int(line[1]))

    doc = await client.call_tool("get_document", {"source": BIDEN, "line_start": 3, "line_end": 5})
    head, *rows = doc.content[0].text.split("\n")
    assert head.startswith(f"{BIDEN}, 2021-12-31 (header), lines 3-5 of ")
    assert rows == [f"{n}: {line}" for n, line in enumerate(file_lines(BIDEN, 3, 5).split("\n"), 3)]
    assert doc.structured_content["text"] == file_lines(BIDEN, 3, 5)
    whole = await client.call_tool("get_document", {"source": BIDEN})
    assert whole.structured_content["line_end"] == min(MAX_LINES, whole.structured_content["lines"])

    for name, args, message in [
        ("get_document", {"source": "no-such.txt"}, "'no-such.txt' is not in the index"),
        ("retrieve", {"question": QUESTION, "k": 0}, "greater than or equal to 1"),
        ("retrieve", {"question": "\x00 \x01"}, "The question is empty"),
        ("ask", {"question": QUESTION, "since": "last week"}, "since"),
    ]:
        refused = await client.call_tool(name, args)
        assert refused.is_error and message in refused.content[0].text, (name, refused.content)


def run(connect: Callable[[], Client], want: list[dict[str, Any]]) -> None:
    async def main() -> None:
        async with connect() as client:
            await every_tool(client, want)

    anyio.run(main)


def test_qa_mcp_over_stdio(seed_library: Library) -> None:
    command = [sys.executable, "-m", "qa.cli", "mcp", "--index", str(seed_library.store.root)]
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    want = json.loads(json.dumps([h.to_json() for h in seed_library.retrieve(QUESTION, k=3)]))
    run(lambda: Client(params, read_timeout_seconds=240), want)


def test_the_chats_server_has_the_same_tools_at_mcp_behind_its_login(request: pytest.FixtureRequest) -> None:
    chat = shared_server(request)
    url = chat.url + "mcp"
    assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401
    basic = {"Authorization": "Basic " + base64.b64encode(":".join(AUTH).encode()).decode()}

    def connect() -> Client:
        http = httpx2.AsyncClient(headers=basic, timeout=120)
        return Client(streamable_http_client(url, http_client=http))

    # The chat's folder holds more than the seeds: its own REST API says which hits to expect.
    want = httpx.post(chat.url + "api/v1/retrieve", json={"question": QUESTION, "k": 3}, auth=AUTH, timeout=60).json()["hits"]
    run(connect, want)


def test_qa_mcp_without_an_index_stops_in_one_line(tmp_path: Path) -> None:
    """`qa mcp` with no index stops at once with one line on stderr, and nothing on stdout (the protocol's)."""
    r = subprocess.run([sys.executable, "-m", "qa.cli", "mcp", "--index", str(tmp_path / "none")], capture_output=True, text=True,
                       input="", timeout=120)  # fmt: skip
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "qa mcp:" in r.stderr


def test_get_document_counts_a_pdfs_lines_page_by_page() -> None:
    """As a PDF's citations do (qa.text.Lines): line 1 is the top of each page."""
    text = "Cover line\nSecond line\nPage two top\nPage two end\n"
    doc = Document("report.pdf", text, pages=(0, text.index("Page two")))
    body, _, page = page_text(doc, 2)
    rows, first, last, total = lines_of(body, 1, None)
    assert page == 2 and rows[:2] == ["Page two top", "Page two end"] and (first, last) == (1, total)
    lines = Lines(doc.text, doc.pages)
    assert lines.at(text.index("Page two end")) == 2 and doc.page_at(text.index("Page two end")) == 2
    assert page_text(doc, None)[2] == 1 and page_text(doc, 9)[2] == 2  # the first page, the last
    assert page_text(Document("a.txt", text), 3) == (text, 0, 0)  # no pages: the whole text
