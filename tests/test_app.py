"""The chat server end to end: a real `qa chat` process on the seeds, driven with gradio_client.

The server runs with a login (QA_AUTH), so every call here also proves the credentials work,
and one test proves calls without them are refused. It is started once per session and shared
with tests/test_browser.py and tests/test_server_hardening.py (shared_server).
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client, handle_file

from qa.answer.check import VERBATIM, Check, Occurrence
from qa.errors import UploadRejected
from qa.ingest.loaders import load_document
from qa.library import Library
from qa.serve.app import build_app
from qa.serve.handlers import ASK, CHECK, Handlers
from qa.serve.render import (
    EMPTY_DOCUMENT,
    EMPTY_SOURCES,
    Target,
    answer_pieces,
    check_reply,
    check_sources_html,
    sources_html,
)
from qa.serve.upload import place, safe_name
from qa.serve.viewer import document_html
from qa.types import Answer, Document, Hit, Quote
from tests.conftest import line_number, make_pdf, per_session, wait_until_serving

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
AUTH = ("reader", "s3cret-words")
QUESTION = "What did Biden warn Putin of if Russia invaded Ukraine?"
SOURCE = "000_193af056c20aff61.txt"
# Beside the seeds in the server's folder: a file whose name, title (first line) and text all carry
# markup that would run if the page rendered it as HTML (tests/test_browser.py looks for it).
PAYLOAD_NAME = "<img src=x onerror=window.__pwned=1>.txt"
PAYLOAD_TITLE = '<img src=y onerror="window.__pwned=1"> The zebra festival report'
PAYLOAD_DOC = (
    f" date 2022-01-05 {PAYLOAD_TITLE}\n"
    "The zebra festival organisers published <script>window.__pwned=1</script> a statement about striped costumes.\n"
    'Visitors saw <img src=x onerror="window.__pwned=1"> many zebra costumes at the festival in the city park.\n'
)


@dataclass
class Server:
    url: str
    folder: Path
    index: Path
    proc: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, env_extra: dict[str, str]) -> Server:
    """`python -m qa.cli chat` (= `qa chat`) on a copy of the seeds, on a free loopback port; waits until it answers."""
    folder, index, log = root / "docs", root / "index", root / "server.log"
    if not folder.exists():
        shutil.copytree(SEEDS, folder)
        (folder / PAYLOAD_NAME).write_text(PAYLOAD_DOC)
    port = free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(root / "gradio-tmp"), **env_extra}
    cmd = [sys.executable, "-m", "qa.cli", "chat", str(folder), "--index", str(index), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(proc, log, f"qa chat on {url}", lambda: httpx.get(url, timeout=2).status_code in (200, 401))
    return Server(url, folder, index, proc, log)


SHARED = pytest.StashKey[Server]()


def shared_server(request: pytest.FixtureRequest) -> Server:
    """One `qa chat` with a login per test session, shared by this file and test_server_hardening.py."""
    return per_session(request, SHARED, lambda root: start_server(root, {"QA_AUTH": ":".join(AUTH)}), "chat")


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> Server:
    return shared_server(request)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Client]:
    c = Client(server.url, auth=AUTH, verbose=False)
    yield c
    c.close()


def text_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def chat(client: Client, question: str, k: int = 5, mode: str = "hybrid", since: str | None = None, until: str | None = None):
    job = client.submit(question, [], k, mode, since, until, "Ask a question", api_name="/chat")
    history, _box, sources, _plot = job.result(timeout=120)
    return history, sources, job.outputs()


def test_chat_streams_a_cited_answer_with_its_sources(client: Client) -> None:
    history, sources, outputs = chat(client, QUESTION)
    assert [m["role"] for m in history] == ["user", "assistant"]
    answer = text_of(history[-1])
    assert "[1]" in answer and "Biden" in answer
    assert SOURCE in sources and "<mark>" in sources
    # Streamed: the question shows first, then the answer grows one cited sentence at a time.
    texts = [text_of(out[0][-1]) for out in outputs if len(out[0]) == 2]
    assert len(outputs) >= 3 and len(texts) >= 2
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(texts))
    assert texts[-1] == answer


def test_retrieve_endpoint_returns_the_hits_of_the_python_api(server: Server, client: Client) -> None:
    lib = Library.open(server.index)
    try:
        for args in [
            (QUESTION, 5, None, None),
            (QUESTION, 3, "2021-12-31", "2021-12-31"),
            ("Who requested the call?", 2, None, None),
        ]:
            got = client.predict(*args, api_name="/retrieve")
            want = [h.to_json() for h in lib.retrieve(args[0], k=args[1], since=args[2], until=args[3])]
            assert got == json.loads(json.dumps(want)), args
            assert got and set(got[0]) == set(Hit.__dataclass_fields__) | {"sentence"}
        dated = client.predict(QUESTION, 5, "2021-12-31", "2021-12-31", api_name="/retrieve")
        assert {h["date"] for h in dated} == {"2021-12-31"}
    finally:
        lib.close()


def test_settings_apply_to_the_next_question(client: Client) -> None:
    _, sources, _ = chat(client, QUESTION, k=1, mode="keyword")
    assert sources.count('class="qa-card') == 1
    _, sources, _ = chat(client, QUESTION, k=3, since="2021-12-30", until="2021-12-30")
    assert SOURCE not in sources and "2021-12-30" in sources
    history, _, _ = chat(client, QUESTION, since="last week")
    assert "is not a date" in text_of(history[-1])


def test_weak_answer_says_so_and_marks_the_closest_passages(client: Client) -> None:
    question = "What is the boiling point of mercury in Kelvin?"
    assert client.predict(question, 5, api_name="/ask")["found"] is False
    history, sources, _ = chat(client, question)
    assert text_of(history[-1]).startswith("No document mentions Kelvin.")  # the name none of them holds
    assert "qa-weak" in sources and "[1]" in sources


def test_upload_makes_a_new_document_answerable(server: Server, client: Client, tmp_path: Path) -> None:
    doc = tmp_path / "okapi board.txt"
    doc.write_text(
        " date 2022-02-14 The Okapi Conservation Board met in Epulu.\n"
        "The Okapi Conservation Board approved a budget of 42 million francs for the Ituri forest reserve.\n"
    )
    status, _ = client.predict([handle_file(str(doc))], api_name="/upload")
    assert "Added okapi board.txt" in status
    assert (server.folder / "okapi board.txt").read_text() == doc.read_text()
    history, sources, _ = chat(client, "What budget did the Okapi Conservation Board approve for the Ituri reserve?")
    assert "42 million" in text_of(history[-1]) and "[1]" in text_of(history[-1])
    assert "okapi board.txt" in sources
    # The same name again: kept beside the first under a new name, the first untouched.
    doc.write_text(" date 2022-02-15 Changed text.\n")
    status, _ = client.predict([handle_file(str(doc))], api_name="/upload")
    assert "Added okapi board-2.txt" in status
    assert "42 million" in (server.folder / "okapi board.txt").read_text()


def test_upload_refuses_unsupported_types(server: Server, client: Client, tmp_path: Path) -> None:
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    status, _ = client.predict([handle_file(str(bad))], api_name="/upload")
    assert "Not added" in status and ".exe files are not supported" in status
    assert not list(server.folder.glob("tool*"))


def test_check_a_claim_mode(client: Client) -> None:
    claim = 'Biden warned of "serious costs and consequences" if Russia invaded'
    job = client.submit(claim, [], 5, "hybrid", None, None, CHECK, api_name="/chat")
    history, _box, sources, _plot = job.result(timeout=120)
    assert text_of(history[-1]).startswith(VERBATIM.capitalize())
    assert SOURCE in sources and "<mark>serious costs and consequences</mark>" in sources
    result = client.predict(claim, 3, api_name="/check")
    assert result["label"] == VERBATIM and result["occurrences"][0]["source"] == SOURCE


def test_calls_without_credentials_are_refused(server: Server) -> None:
    with pytest.raises(Exception, match="credentials"):
        Client(server.url, verbose=False)
    with pytest.raises(ValueError):
        Client(server.url, auth=("reader", "wrong"), verbose=False)
    r = httpx.post(f"{server.url}gradio_api/call/retrieve", json={"data": [QUESTION, 5, None, None]}, timeout=10)
    assert r.status_code == 401


def test_import_qa_stays_light() -> None:
    code = "import sys, qa, qa.cli; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


# The parts below need no server: names of uploads, and escaping of what the page shows.


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\win.HTML", "win.html"),
        (".hidden.txt", "hidden.txt"),
        ("a<b>|c?.pdf", "a_b_c_.pdf"),
        ("\x00evil\n.txt", "evil.txt"),
        ("..", "upload"),
        ("x" * 300 + ".txt", "x" * 120 + ".txt"),
    ],
)
def test_safe_name(sent: str, kept: str) -> None:
    assert safe_name(sent) == kept


def test_place_never_leaves_the_folder_nor_overwrites(tmp_path: Path) -> None:
    folder, src = tmp_path / "docs", tmp_path / "in.txt"
    folder.mkdir()
    src.write_text("new")
    (folder / "a.txt").write_text("old")
    assert place(src, "../a.txt", folder) == folder / "a-2.txt"
    assert place(src, "a.txt", folder) == folder / "a-3.txt"
    assert (folder / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "in.txt"]
    for name in ("x.exe", "noext"):
        with pytest.raises(UploadRejected, match="not supported"):
            place(src, name, folder)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(UploadRejected, match="empty"):
        place(tmp_path / "empty.txt", "empty.txt", folder)


PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


def test_document_text_is_escaped_in_every_panel() -> None:
    text = f"Safe start. Bad {PAYLOAD} sentence. End."
    hit = Hit(
        rank=1,
        score=0.5,
        chunk_id=1,
        text=text,
        source=f"{PAYLOAD}.txt",
        date=None,
        title=PAYLOAD,
        start=0,
        end=len(text),
        line_start=1,
        line_end=1,
        page=None,
        sentence_start=12,
        sentence_end=len(text) - 5,
    )
    doc = Document(path=hit.source, text=text, title=PAYLOAD)
    occurrence = Occurrence(
        source=hit.source, date=None, title=PAYLOAD, start=17, end=17 + len(PAYLOAD), line_start=1, line_end=1,
        quote=PAYLOAD, text=PAYLOAD, ratio=100.0,
    )
    claim = Check(text=PAYLOAD, label=VERBATIM, occurrences=(occurrence,), passages=(hit,), note=PAYLOAD, support=(0.9,))
    quote = Quote(text, 1, hit.source, 0, len(text), 0.9)
    answer = Answer(question=PAYLOAD, text=f"{text} [1]", quotes=(quote,), hits=(hit,), found=True, date_note=PAYLOAD)
    panels = {
        "sources": sources_html([hit], weak=False),
        "weak sources": sources_html([hit], weak=True, note=PAYLOAD),
        "document": document_html(doc, Target.of_hit(hit)),
        "claim text": check_reply(claim),
        "claim sources": check_sources_html(claim),
        "answer": " ".join(answer_pieces(answer, 1)),
    }
    for name, markup in panels.items():
        assert "<script" not in markup and "<img" not in markup, name
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in markup, name


def test_question_and_errors_are_escaped_in_the_chat(tmp_path: Path) -> None:
    """The question shows as the user's message, escaped, before any index is read; so does an error."""
    folder = tmp_path / "docs"
    folder.mkdir()
    steps = list(
        Handlers(Library.open(tmp_path / "no-index"), folder).chat(PAYLOAD, [], 5, "hybrid", None, None, "Ask a question")
    )
    messages = [m for history, *_ in steps for m in history]
    assert messages[0] == {
        "role": "user",
        "content": "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;",
    }
    assert messages[-1]["role"] == "assistant" and "No index" in messages[-1]["content"]
    assert all("<script" not in m["content"] and "<img" not in m["content"] for m in messages)


# Citations a reader can follow: markers that open their source, a viewer with line numbers and
# pages, cards whose labels no number contradicts, and a clear that clears every panel.

CITE = re.compile(r'<button class="qa-cite qa-cite-(\d+)-(\d+)" title="[^"]*">\[(\d+)\]</button>')
HEAD = re.compile(r'<div class="qa-card[^"]*" data-n="(\d+)"><div class="qa-head">(.*?)</div>')


def plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def quoted_cards(sources: str) -> set[int]:
    return {int(n) for n, head in HEAD.findall(sources) if 'class="qa-quoted-badge"' in head}


def test_answer_markers_are_buttons_naming_their_answer_and_source() -> None:
    hits = tuple(
        Hit(rank=i, score=1.0, chunk_id=i, text=t, source=f"{i}.txt", date=None, title="", start=0, end=len(t),
            line_start=1, line_end=1, sentence_start=0, sentence_end=len(t))
        for i, t in ((1, f"First {PAYLOAD} [3] sentence."), (2, "Second sentence."))
    )  # fmt: skip
    quotes = (Quote(hits[0].text, 1, "1.txt", 0, 10, 0.9), Quote(hits[1].text, 2, "2.txt", 0, 10, 0.8))
    text = " ".join(f"{q.text} [{q.marker}]" for q in quotes)
    pieces = answer_pieces(Answer("q", text, quotes, hits, found=True), turn=5)
    assert len(pieces) == 2  # one quoted sentence at a time
    assert [CITE.findall(p) for p in pieces] == [[("5", "1", "1")], [("5", "2", "2")]]
    assert plain(" ".join(pieces)) == text  # the text the reader sees is the answer
    # Only the markers are buttons: a "[3]" inside the quoted text stays text, and the markup escaped.
    assert "&lt;script&gt;" in pieces[0] and "<script" not in pieces[0] and pieces[0].count("<button") == 1


def test_no_card_shows_a_fused_score_that_could_contradict_weak() -> None:
    def hit(score: float) -> Hit:
        return Hit(rank=1, score=score, chunk_id=1, text="A passage.", source="a.txt", date=None, title="", start=0,
                   end=10, line_start=1, line_end=1, sentence_start=0, sentence_end=10)  # fmt: skip

    weak, found = sources_html([hit(1.78)], weak=True), sources_html([hit(1.48)], weak=False, quoted={1: [(0, 10)]})
    assert "1.78" not in weak and "1.48" not in found and "score" not in weak + found
    assert 'class="qa-weak-badge"' in weak and quoted_cards(weak) == set()
    assert 'class="qa-weak-badge"' not in found and quoted_cards(found) == {1}
    assert quoted_cards(sources_html([hit(1.48)], weak=False)) == set()


def test_chat_cards_say_which_passages_the_answer_quotes(client: Client) -> None:
    history, sources, _ = chat(client, QUESTION)
    cites = CITE.findall(text_of(history[-1]))
    # Every marker is a button for card n of the answer at place 1 of the history, and its label is [n].
    assert cites and all(turn == "1" and n == label for turn, n, label in cites)
    assert not re.search(r"\[\d+\]", CITE.sub("", text_of(history[-1])))
    assert quoted_cards(sources) == {int(n) for _, n, _ in cites}
    heads = [head for _, head in HEAD.findall(sources)]
    assert len(heads) == 5 and not any(re.search(r"\d\.\d|score", plain(h)) for h in heads), heads
    # A weak answer: every card weak, none quoted, no number to compare with the cards above.
    history, sources, _ = chat(client, "What is the boiling point of mercury in Kelvin?")
    heads = [head for _, head in HEAD.findall(sources)]
    assert not CITE.findall(text_of(history[-1])) and quoted_cards(sources) == set()
    assert heads and all('class="qa-weak-badge"' in h and not re.search(r"\d\.\d|score", plain(h)) for h in heads)

    # A card the answer quotes marks the sentences quoted from it, not its best match to the question.
    history, sources, _ = chat(client, QUESTION)
    quotes = [plain(q).strip() for q in CITE.split(text_of(history[-1]))[::4] if plain(q).strip()]
    cards = dict(re.findall(r'data-n="(\d+)">(.*?)<button class="qa-open"', sources, re.S))
    for _, n, _ in CITE.findall(text_of(history[-1])):
        marked = [plain(m) for m in re.findall(r"<mark>(.*?)</mark>", cards[n], re.S)]
        assert marked and all(m in quotes for m in marked), (n, marked, quotes)


def test_card_marks_its_quoted_sentences_else_its_best_sentence() -> None:
    text = "The mayor opened the bridge. It cost 4 million. Traffic starts Monday."
    hit = Hit(rank=1, score=1.0, chunk_id=1, text=text, source="a.txt", date=None, title="", start=100,
              end=100 + len(text), line_start=1, line_end=1, sentence_start=0, sentence_end=28)  # fmt: skip
    quoted = {1: [(100 + 29, 100 + 47), (100 + 48, 100 + 70)]}  # the second and third sentences, document offsets
    marks = re.findall(r"<mark>(.*?)</mark>", sources_html([hit], weak=False, quoted=quoted))
    assert marks == ["It cost 4 million.", "Traffic starts Monday."]
    assert re.findall(r"<mark>(.*?)</mark>", sources_html([hit], weak=False)) == ["The mayor opened the bridge."]
    # A best sentence with a heading run into it: the heading is not marked; all structure: nothing is.
    text = "## Costs\nThe budget is 3 million euros."
    headed = dataclasses.replace(hit, text=text, end=100 + len(text), sentence_start=0, sentence_end=len(text))
    assert re.findall(r"<mark>(.*?)</mark>", sources_html([headed], weak=False)) == ["The budget is 3 million euros."]
    only = dataclasses.replace(headed, sentence_end=len("## Costs"))
    assert "<mark>" not in sources_html([only], weak=False)
    # A FAQ's question as the best sentence: the statement after it, which answers it, is marked.
    text = "How do I reset my password?\nOpen Settings and click Reset password.\n\nCan I change my name?\nNo."
    faq = dataclasses.replace(hit, text=text, end=100 + len(text), sentence_start=0, sentence_end=text.index("?") + 1)
    assert re.findall(r"<mark>(.*?)</mark>", sources_html([faq], weak=False)) == ["Open Settings and click Reset password."]


def test_answer_phrase_is_bold_and_a_wrapped_quote_reads_as_one_line() -> None:
    text = "The board chose the repair from the yard\nin Enkhuizen, at 1,150 euros."
    hit = Hit(rank=1, score=1.0, chunk_id=1, text=text, source="m.pdf", date=None, title="", start=0, end=len(text),
              line_start=7, line_end=8, sentence_start=0, sentence_end=len(text))  # fmt: skip
    at = text.index("1,150 euros")
    quote = Quote(text, 1, "m.pdf", 0, len(text), 0.9, at, at + len("1,150 euros"))
    (piece,) = answer_pieces(Answer("How much did the repair cost?", f"{text} [1]", (quote,), (hit,), found=True), turn=1)
    assert "<b>1,150 euros</b>" in piece and "\n" not in piece
    assert plain(piece) == "The board chose the repair from the yard in Enkhuizen, at 1,150 euros. [1]"
    unmarked = answer_pieces(Answer("q", f"{text} [1]", (Quote(text, 1, "m.pdf", 0, len(text), 0.9),), (hit,), found=True), 1)
    assert "<b>" not in unmarked[0]


def test_card_shows_the_headings_above_its_passage() -> None:
    """The card's second line is where the passage stands: the title and its section path, said once."""
    text = "The budget is 3 million euros."
    hit = Hit(rank=1, score=1.0, chunk_id=1, text=text, source="notes.md", date=None, title="Library", start=0,
              end=len(text), line_start=9, line_end=9, sentence_start=0, sentence_end=len(text))  # fmt: skip

    def second_line(h: Hit) -> str:
        return plain(re.search(r'<div class="qa-title"[^>]*>(.*?)</div>', sources_html([h], weak=False)).group(1))

    assert second_line(hit) == "Library"
    assert second_line(dataclasses.replace(hit, section="Library › Costs")) == "Library › Costs"  # the # heading is the title
    assert second_line(dataclasses.replace(hit, section="Costs › 2024")) == "Library › Costs › 2024"
    assert second_line(dataclasses.replace(hit, title="", section="Costs")) == "Costs"
    dated = dataclasses.replace(hit, section="Library, May 2024 › Costs")  # the # heading says the title at length
    assert second_line(dated) == "Library, May 2024 › Costs"
    record = dataclasses.replace(hit, title="Decision 7 — new library", section="New library › Costs")
    assert second_line(record) == "Decision 7 — new library › Costs"  # the title holds the # heading
    assert second_line(dataclasses.replace(record, section="New library")) == "Decision 7 — new library"


def test_chat_follow_up_is_searched_with_the_turn_before(client: Client) -> None:
    history, _, _ = chat(client, QUESTION)
    follow = "And what did he say about sanctions?"
    job = client.submit(follow, history, 5, "hybrid", None, None, "Ask a question", api_name="/chat")
    history, _box, sources, _plot = job.result(timeout=120)
    note = re.search(r'<div class="qa-note">searched as: ([^<]*)</div>', sources)
    assert note and html.unescape(note.group(1)).startswith(follow) and "Putin" in note.group(1), sources[:600]
    assert SOURCE in HEAD.findall(sources)[0][1]
    # A new conversation (no history): the same words are searched as they are.
    _, sources, _ = chat(client, follow)
    assert "searched as" not in sources


TOKEN = re.compile(r"<[^>]+>|[^<]+")
LINE_SPAN = re.compile(r'<span class="qa-ln" data-line="(\d+)">')
PAGE_SPAN = re.compile(r'<span class="qa-page" data-page="(\d+)">')


@dataclasses.dataclass
class Shown:
    """The viewer's text character by character: the line and page numbers shown before it, and whether it is marked."""

    text: str
    lines: list[int]
    pages: list[int]
    marked: list[bool]


def shown(markup: str) -> Shown:
    body = markup.split('<div class="qa-doc-text"', 1)[1].split(">", 1)[1]
    out = Shown("", [], [], [])
    line = page = depth = 0
    for token in TOKEN.findall(body):
        if token.startswith("<"):
            m, p = LINE_SPAN.match(token), PAGE_SPAN.match(token)
            line, page = int(m[1]) if m else line, int(p[1]) if p else page
            depth += token.startswith("<mark") - (token == "</mark>")
            continue
        for ch in html.unescape(token):
            out.text += ch
            out.lines.append(line)
            out.pages.append(page)
            out.marked.append(depth > 0)
    return out


def test_viewer_numbers_lines_as_citations_count_them() -> None:
    text = f"one\ntwo\r\nthree {PAYLOAD}\rfour\n\nsix\r\n"
    start = text.index("three")
    doc = Document("mixed.txt", text)
    markup = document_html(doc, Target("mixed.txt", start, start + 5, start, start + 5))
    view = shown(markup)
    assert view.text == text and "<script" not in markup  # all of it, escaped
    for i, ch in enumerate(text):
        if ch not in "\r\n":  # a break's own characters sit at the end of the line they end
            assert view.lines[i] == line_number(text, i), (i, ch)
    assert sorted(set(view.lines)) == [1, 2, 3, 4, 5, 6]  # \n, \r\n and a lone \r are one break each
    assert "Passage: line 3" in markup and "".join(c for c, m in zip(text, view.marked, strict=True) if m) == "three"


def test_viewer_lines_match_the_citation_of_every_hit(seed_library: Library) -> None:
    for hit in seed_library.retrieve(QUESTION, k=5):
        doc = seed_library.document(hit.source)
        assert doc is not None
        markup = document_html(doc, Target.of_hit(hit))
        view = shown(markup)
        assert view.text == doc.text
        marked = [i for i, m in enumerate(view.marked) if m]
        assert doc.text[marked[0] : marked[-1] + 1] == hit.text
        assert (view.lines[marked[0]], view.lines[marked[-1]]) == (hit.line_start, hit.line_end)
        lines = f"lines {hit.line_start}-{hit.line_end}" if hit.line_end != hit.line_start else f"line {hit.line_start}"
        assert f"Passage: {lines}</div>" in markup
        best = markup.split('id="qa-target">', 1)[1].split("</mark>", 1)[0]
        assert plain(best) == hit.sentence


def test_viewer_marks_the_pages_of_a_pdf(tmp_path: Path) -> None:
    (tmp_path / "lava.pdf").write_bytes(make_pdf(["The cartographer drew Iceland.", "Basalt <b>lava</b> fields near Hekla."]))
    doc = load_document(tmp_path / "lava.pdf", tmp_path)
    start = doc.text.index("Basalt")
    assert len(doc.pages) == 2 and doc.page_at(start) == 2
    markup = document_html(doc, Target(doc.path, start, len(doc.text), start, len(doc.text)))
    view = shown(markup)
    assert view.text == doc.text and "<b>lava</b>" not in markup
    assert all(view.pages[i] == doc.page_at(i) for i in range(len(doc.text)))
    assert all(view.lines[i] == line_number(doc.text, i, doc.pages) for i, ch in enumerate(doc.text) if ch != "\n")
    assert view.lines[start] == 1 and "Passage: page 2, line 1</div>" in markup  # lines restart on each page


def test_a_marker_opens_the_source_of_its_own_answer(seed_library: Library, tmp_path: Path) -> None:
    h = Handlers(seed_library, tmp_path)
    first, second = seed_library.retrieve(QUESTION, k=3), seed_library.retrieve("What did Peskov say?", k=3)
    assert (first[0].source, first[0].start) != (second[0].source, second[0].start)
    known = {1: [dataclasses.asdict(Target.of_hit(x)) for x in first], 3: [dataclasses.asdict(Target.of_hit(x)) for x in second]}

    def viewer(hit: Hit) -> str:
        return document_html(seed_library.document(hit.source), Target.of_hit(hit))

    assert h.open_source(known, gr.EventData(None, {"open": 0, "turn": 1}))[0] == viewer(first[0])  # a marker of answer 1
    assert h.open_source(known, gr.EventData(None, {"open": 2, "turn": 3}))[0] == viewer(second[2])
    assert h.open_source(known, gr.EventData(None, {"open": 1}))[0] == viewer(second[1])  # a card: the newest answer
    for data in ({"open": 0, "turn": 2}, {"open": 3, "turn": 1}, {"open": "0"}):
        assert all(isinstance(x, type(gr.skip())) for x in h.open_source(known, gr.EventData(None, data))), data


def test_chat_keeps_each_answers_targets_under_its_place(seed_library: Library, tmp_path: Path) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "An earlier answer."}]
    earlier = {1: [dataclasses.asdict(Target("x.txt", 0, 1, 0, 1))]}
    *_, last = Handlers(seed_library, tmp_path).chat(QUESTION, history, 5, "hybrid", None, None, ASK, earlier)
    chat_history, _, _, _, state, _result = last
    assert set(state) == {1, 3} and state[1] == earlier[1] and len(state[3]) == 5
    cites = CITE.findall(chat_history[3]["content"])
    assert cites and {turn for turn, _, _ in cites} == {"3"}


def test_clearing_the_chat_clears_sources_viewer_timeline_and_targets(seed_library: Library, tmp_path: Path) -> None:
    demo = build_app(seed_library, tmp_path)
    names = {c["id"]: c["props"].get("elem_id") or c["type"] for c in demo.config["components"]}
    chatbot = next(i for i, name in names.items() if name == "qa-chat")
    (clear,) = [d for d in demo.config["dependencies"] if (chatbot, "clear") in [tuple(t) for t in d["targets"]]]
    outputs = [names[o] for o in clear["outputs"]]
    assert outputs == ["qa-sources", "qa-document", "qa-timeline", "state", "tabs"]
    sources, viewer, plot, targets, _tabs = Handlers.clear()
    assert (sources, viewer, targets) == (EMPTY_SOURCES, EMPTY_DOCUMENT, {})
    assert plot.constructor_args.get("value", "unset") is None
