"""The chat server end to end: a real `qa chat` process on the seeds, driven with gradio_client.

The server runs with a login (QA_AUTH), so every call here also proves the credentials work,
and one test proves calls without them are refused. It is started once per session and shared
with tests/test_browser.py and tests/test_server_hardening.py (shared_server).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from qa.answer.check import VERBATIM, Check, Occurrence
from qa.errors import UploadRejected
from qa.library import Library
from qa.serve.handlers import CHECK, Handlers
from qa.serve.render import Target, answer_pieces, check_reply, check_sources_html, document_html, sources_html
from qa.serve.upload import place, safe_name
from qa.types import Answer, Document, Hit

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
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"qa chat exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401):
                return Server(url, folder, index, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"qa chat did not answer on {url} within 240 s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(15)
    except subprocess.TimeoutExpired:
        server.proc.kill()


SHARED = pytest.StashKey[Server]()


def shared_server(request: pytest.FixtureRequest) -> Server:
    """One `qa chat` with a login per test session, shared by this file and test_server_hardening.py."""
    config = request.config
    if SHARED not in config.stash or config.stash[SHARED].proc.poll() is not None:  # none yet, or stopped by a test
        root = request.getfixturevalue("tmp_path_factory").mktemp("chat")
        config.stash[SHARED] = started = start_server(root, {"QA_AUTH": ":".join(AUTH)})
        config.add_cleanup(lambda: stop_server(started))
    return config.stash[SHARED]


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
    assert "do not answer" in text_of(history[-1])
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
    answer = Answer(question=PAYLOAD, text=f"{text} [1]", quotes=(), hits=(hit,), found=True, date_note=PAYLOAD)
    panels = {
        "sources": sources_html([hit], weak=False),
        "weak sources": sources_html([hit], weak=True, note=PAYLOAD),
        "document": document_html(doc, Target.of_hit(hit)),
        "claim text": check_reply(claim),
        "claim sources": check_sources_html(claim),
        "answer": " ".join(answer_pieces(answer)),
    }
    for name, html in panels.items():
        assert "<script" not in html and "<img" not in html, name
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html, name


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
