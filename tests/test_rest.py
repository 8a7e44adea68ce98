"""The REST API over real HTTP on loopback: a `qa serve` process for this module, and the same routes
on the session's `qa chat` (tests/test_app.py), behind its login.

The module's server takes a token and a login; every call here sends one of them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from qa import config, errors
from qa.index.store import Store
from qa.library import Library
from qa.serve.access import Access
from qa.serve.auth import FREE_FAILURES
from qa.serve.rest_errors import STATUS, split, status_of
from qa.serve.upload import MAX_UPLOAD_BYTES
from qa.types import Hit
from tests.conftest import BIDEN, PESKOV, SEEDS, per_session, wait_until_serving
from tests.test_app import AUTH, QUESTION, free_port, shared_server

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

TOKEN = "rest-test-token-0123456789"
LOGIN = ("api-user", "api-pass-words")
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Api:
    url: str  # ends in /api/v1/
    folder: Path
    index: Path
    proc: subprocess.Popen[bytes]
    log: Path


def start_api(root: Path, env_extra: dict[str, str], headers: dict[str, str]) -> Api:
    """`python -m qa.cli serve` (= `qa serve`) on a copy of the seeds, on a free loopback port; waits
    until its schema answers with `headers`."""
    folder, index, log = root / "docs", root / "index", root / "server.log"
    shutil.copytree(SEEDS, folder)
    port = free_port()
    cmd = [sys.executable, "-m", "qa.cli", "serve", str(folder), "--index", str(index), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env_extra}, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/v1/"
    ready = lambda: httpx.get(url + "openapi.json", headers=headers, timeout=2).status_code == 200  # noqa: E731
    wait_until_serving(proc, log, f"qa serve on {url}", ready)
    return Api(url, folder, index, proc, log)


SHARED = pytest.StashKey[Api]()


def shared_api(request: pytest.FixtureRequest) -> Api:
    """One `qa serve` with a token and a login per test session, for this file and test_rest_fuzz.py
    (which runs after it, and whose fuzzed uploads and deletes touch only names it made up)."""
    env = {"QA_TOKEN": TOKEN, "QA_AUTH": ":".join(LOGIN)}
    return per_session(request, SHARED, lambda root: start_api(root, env, BEARER), "rest")


@pytest.fixture(scope="module")
def api(request: pytest.FixtureRequest) -> Api:
    return shared_api(request)


@pytest.fixture(scope="module")
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, headers=BEARER, timeout=120) as c:
        yield c


def error_of(r: httpx.Response, status: int) -> dict[str, str]:
    """The body of an error response: exactly {"error", "fix"}, both said, no traceback."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "fix"} and body["error"] and body["fix"], body
    assert "Traceback" not in r.text
    return body


# Search: the same results as the Python API, every citation field of Hit.


def test_retrieve_returns_the_hits_of_the_python_api(http: httpx.Client, seed_library: Library) -> None:
    for body in [
        {"question": QUESTION},
        {"question": QUESTION, "k": 3, "since": "2021-12-31", "until": "2021-12-31"},
        {"question": "Who requested the call?", "k": 2, "mode": "keyword"},
        {"question": "Who requested the call?", "k": 1, "neighbours": 1},
    ]:
        r = http.post("retrieve", json=body)
        assert r.status_code == 200, r.text
        args = {k: v for k, v in body.items() if k != "question"}
        want = [h.to_json() for h in seed_library.retrieve(body["question"], **args)]  # the same seeds, indexed alike
        assert r.json() == {"hits": json.loads(json.dumps(want))}, body
    hits = http.post("retrieve", json={"question": QUESTION}).json()["hits"]
    assert set(hits[0]) == set(Hit.__dataclass_fields__) | {"sentence"}
    assert hits[0]["source"] == BIDEN and hits[0]["sentence"] in hits[0]["text"]
    assert (SEEDS / BIDEN).read_text()[hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]
    neighbours = http.post("retrieve", json={"question": QUESTION, "k": 1, "neighbours": 1}).json()["hits"][0]["neighbours"]
    assert neighbours and all(n["source"] == hits[0]["source"] for n in neighbours)


def test_ask_and_check(http: httpx.Client) -> None:
    answer = http.post("ask", json={"question": QUESTION, "k": 3}).json()
    assert answer["found"] and "[1]" in answer["answer"] and answer["hits"][0]["source"] == BIDEN
    assert answer["quotes"][0]["text"] in answer["answer"]
    claim = 'Biden warned of "serious costs and consequences" if Russia invaded'
    result = http.post("check", json={"text": claim, "k": 2}).json()
    assert result["label"] == "quoted verbatim" and result["occurrences"][0]["source"] == BIDEN
    assert result["occurrences"][0]["text"].lower() == "serious costs and consequences"


def test_a_follow_up_sends_the_answer_before(http: httpx.Client, seed_library: Library) -> None:
    """`previous` carries what a follow-up needs of the answer before (its question, searched, found
    and quote sources): the API then searches and answers as Library.ask with that answer as history."""
    first = http.post("ask", json={"question": "What did Biden warn Putin of if Russia invaded Ukraine?"}).json()
    previous = {k: first[k] for k in ("question", "searched", "found")} | {"sources": [q["source"] for q in first["quotes"]]}
    then = http.post("ask", json={"question": "And what did he say about sanctions?", "previous": previous}).json()
    want = seed_library.ask("And what did he say about sanctions?", history=[seed_library.ask(first["question"])])
    assert "Putin" in then["searched"] and then["searched"] == want.searched
    assert then["answer"] == want.text and then["hits"][0]["source"] == BIDEN
    alone = http.post("ask", json={"question": "And what did he say about sanctions?"}).json()
    assert alone["searched"] == "And what did he say about sanctions?"
    bad = http.post("ask", json={"question": "And then?", "previous": {"question": "x", "sources": "a.txt"}})
    assert bad.status_code == 422 and "sources" in bad.text


def test_ask_and_check_as_evidence_files(api: Api, http: httpx.Client) -> None:
    """?format= gives the evidence a fact-checker files (qa/export.py), as a download: every quote is
    the file's own words at the cited characters, with the file's sha256 and the generation."""
    rows = []
    claim = 'Biden warned of "serious costs and consequences"'
    for path, body in [("ask", {"question": QUESTION, "k": 3}), ("check", {"text": claim})]:
        r = http.post(path, json=body, params={"format": "csv"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv") and r.text.startswith("\ufeff")
        assert r.headers["content-disposition"].startswith(f'attachment; filename="qa-{"answer" if path == "ask" else "check"}-')
        rows += list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
    assert {row["kind"] for row in rows} >= {"quote", "occurrence"}
    generation = Store(api.index).manifest_generation()
    for row in rows:
        data = (api.folder / row["file"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["generation"] == generation
        assert data.decode()[int(row["start"]) : int(row["end"])] == row["quote"]
    md = http.post("ask", json={"question": QUESTION, "k": 3}, params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith(f"# {QUESTION}")
    exported = http.post("ask", json={"question": QUESTION, "k": 3}, params={"format": "json"}).json()
    plain = http.post("ask", json={"question": QUESTION, "k": 3}).json()
    assert exported["answer"] == plain["answer"] and exported["evidence"] and "evidence" not in plain
    error_of(http.post("ask", json={"question": QUESTION}, params={"format": "xlsx"}), 422)


# The documents: list, read, upload, delete.


def test_documents_list_counts_and_hashes(api: Api, http: httpx.Client) -> None:
    listing = http.get("documents").json()
    sources = [d["source"] for d in listing["documents"]]
    assert BIDEN in sources and PESKOV in sources
    assert listing["count"] == len(sources) and listing["passages"] == sum(d["passages"] for d in listing["documents"])
    for d in listing["documents"]:
        if d["source"] in (BIDEN, PESKOV):
            assert d["sha256"] == hashlib.sha256((SEEDS / d["source"]).read_bytes()).hexdigest()
            assert d["passages"] > 0 and d["date"].startswith("2021-12-3")
    peskov = http.get("documents", params={"q": "EMPHASIZE diplomacy"}).json()
    assert [d["source"] for d in peskov["documents"]] == [PESKOV] and peskov["count"] == 1


def test_a_document_reads_back_with_its_text(http: httpx.Client) -> None:
    doc = http.get(f"documents/{BIDEN}").json()
    assert doc["text"] == (SEEDS / BIDEN).read_text() and doc["source"] == BIDEN and doc["page_starts"] == []
    assert error_of(http.get("documents/no-such-file.txt"), 404)["error"] == "'no-such-file.txt' is not in the index"


def test_upload_then_delete(api: Api, http: httpx.Client, tmp_path: Path) -> None:
    text = "---\ndate: 2022-04-02\ntitle: Tapir census\n---\nThe tapir census in the Pantanal counted 1,283 lowland tapirs.\n"
    r = http.post("documents", files=[("files", ("tapir census.md", text.encode(), "text/markdown"))])
    assert r.status_code == 201, r.text
    added = r.json()["added"]
    assert [a["source"] for a in added] == ["tapir census.md"] and added[0]["title"] == "Tapir census"
    assert (added[0]["date"], added[0]["date_source"]) == ("2022-04-02", "front matter")  # the date and where it came from
    assert added[0]["sha256"] == hashlib.sha256(text.encode()).hexdigest() and r.json()["passages_encoded"] >= 1
    assert (api.folder / "tapir census.md").read_text() == text
    hit = http.post("retrieve", json={"question": "How many lowland tapirs were counted in the Pantanal?", "k": 1}).json()
    assert hit["hits"][0]["source"] == "tapir census.md" and "1,283" in hit["hits"][0]["sentence"]
    # The same name again: kept beside it, never over it; the same bytes again: not copied at all.
    again = http.post("documents", files=[("files", ("tapir census.md", b"Another tapir text about Brazil.\n", "text/plain"))])
    assert again.status_code == 201 and [a["source"] for a in again.json()["added"]] == ["tapir census-2.md"]
    same = http.post("documents", files=[("files", ("tapirs.md", text.encode(), "text/markdown"))])
    assert same.status_code == 200 and same.json()["added"] == [] and same.json()["passages_encoded"] == 0
    assert same.json()["already"] == [{"name": "tapirs.md", "source": "tapir census.md"}]
    assert not (api.folder / "tapirs.md").exists()
    before = {d["source"]: d["passages"] for d in http.get("documents").json()["documents"]}
    gone = http.delete("documents/tapir census.md")
    assert gone.status_code == 200 and gone.json()["removed"] == "tapir census.md"
    after = {d["source"]: d["passages"] for d in http.get("documents").json()["documents"]}
    assert after == {k: v for k, v in before.items() if k != "tapir census.md"}  # nothing else lost
    assert gone.json()["count"] == len(after) and not (api.folder / "tapir census.md").exists()
    top = http.post("retrieve", json={"question": "How many lowland tapirs were counted in the Pantanal?", "k": 3}).json()
    assert "tapir census.md" not in {h["source"] for h in top["hits"]}
    assert error_of(http.delete("documents/tapir census.md"), 404)
    assert http.delete("documents/tapir census-2.md").status_code == 200


def test_a_document_with_any_name_can_be_read_and_deleted(api: Api, http: httpx.Client) -> None:
    name = "walrus\nnotes #1? 100% ünïcode.txt"  # a newline, and what URLs use for themselves
    (api.folder / name).write_text("The walrus colony on Svalbard held 412 animals in 2021.\n")
    http.post("documents", files=[("files", ("seal note.txt", b"A note about harbour seals.\n", "text/plain"))])  # syncs it all
    r = http.get("documents/" + quote(name, safe=""))
    assert r.status_code == 200 and r.json()["source"] == name and "412 animals" in r.json()["text"]
    assert http.delete("documents/" + quote(name, safe="")).status_code == 200 and not (api.folder / name).exists()
    assert http.delete("documents/seal%20note.txt").status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", 415, "tool.exe: .exe files are not supported"),
        ("notes", b"some text", 415, "notes: no extension files are not supported"),
        ("empty.txt", b"", 400, "empty.txt: the file is empty"),
        ("scan.pdf", b"%PDF-1.4 not really a pdf", 422, "scan.pdf:"),
    ],
)
def test_upload_refuses_what_it_cannot_index(
    api: Api, http: httpx.Client, name: str, data: bytes, status: int, message: str
) -> None:
    before = sorted(p.name for p in api.folder.iterdir())
    body = error_of(http.post("documents", files=[("files", (name, data, "application/octet-stream"))]), status)
    assert body["error"].startswith(message), body
    assert sorted(p.name for p in api.folder.iterdir()) == before  # nothing kept


def test_upload_over_the_limit_is_413(api: Api, http: httpx.Client) -> None:
    big = b"word " * (MAX_UPLOAD_BYTES // 5 + 1)
    assert "16 MiB limit" in error_of(http.post("documents", files=[("files", ("big.txt", big, "text/plain"))]), 413)["error"]
    far = b"x" * (MAX_UPLOAD_BYTES + 3 * 2**20)  # over the request limit: refused before it is read
    assert error_of(http.post("documents", files=[("files", ("far.txt", far, "text/plain"))]), 413)
    assert not any(p.name.startswith(("big", "far")) for p in api.folder.iterdir())


def test_a_write_while_another_writer_holds_the_index_is_409(api: Api, http: httpx.Client) -> None:
    with Store(api.index).lock():
        r = http.post("documents", files=[("files", ("locked.txt", b"A text about otters in the river.\n", "text/plain"))])
        assert "another qa index is writing" in error_of(r, 409)["error"]
        assert error_of(http.delete(f"documents/{PESKOV}"), 409)
    assert not (api.folder / "locked.txt").exists() and (api.folder / PESKOV).exists()
    assert PESKOV in {d["source"] for d in http.get("documents").json()["documents"]}


# Errors: JSON with a fix and the right status, never a traceback or a 500.

BAD = [
    ({"question": ""}, 422, "question: String should have at least 1 character"),
    ({"question": "x" * 2001}, 422, "question: String should have at most 2000 characters"),
    ({"question": "   "}, 400, "The question is empty"),
    ({"question": "\x00\x01"}, 400, "The question is empty"),
    ({"question": "q", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"question": "q", "k": 51}, 422, "k: Input should be less than or equal to 50"),
    ({"question": "q", "k": "3"}, 422, "k: Input should be a valid integer"),
    ({"question": "q", "k": 2.5}, 422, "k: Input should be a valid integer"),
    ({"question": "q", "k": None}, 422, "k: Input should be a valid integer"),
    ({"question": "q", "since": "last week"}, 422, "since: Input should be a valid date"),
    ({"question": "q", "since": 20211231}, 422, "since: Input should be a valid date"),
    ({"question": "q", "until": "2021-02-30"}, 422, "until: Input should be a valid date"),
    ({"question": "q", "mode": "fuzzy"}, 422, "mode: Input should be 'hybrid', 'dense' or 'keyword'"),
    ({"question": "q", "neighbours": 9}, 422, "neighbours: Input should be less than or equal to 3"),
    ({"question": "q", "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
    ({}, 422, "question: Field required"),
    ([1, 2], 422, "body: Input should be a valid dictionary"),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD)
def test_bad_requests_get_json_errors(http: httpx.Client, body: object, status: int, message: str) -> None:
    assert error_of(http.post("retrieve", json=body), status)["error"].startswith(message)


def test_malformed_bodies_methods_and_paths(http: httpx.Client) -> None:
    assert error_of(http.post("retrieve", content=b"{not json", headers={"Content-Type": "application/json"}), 422)["error"] == (
        "the body is not valid JSON"
    )
    assert error_of(http.post("retrieve", content=b"question=x", headers={"Content-Type": "text/plain"}), 422)
    assert error_of(http.post("retrieve", content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"}), 413)
    assert error_of(http.put("retrieve", json={"question": "q"}), 405)
    assert error_of(http.get("nowhere"), 404)
    assert error_of(http.get("documents", params={"q": "x" * 201}), 422)


def test_every_library_error_has_a_status() -> None:
    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    mine = [c for c in subclasses(errors.QAError) if c.__module__ == "qa.errors"]
    assert set(mine) == set(STATUS), set(mine) ^ set(STATUS)
    assert status_of(errors.UploadTooLarge("x")) == 413 and status_of(errors.UploadRejected("x")) == 400
    assert split("a.txt: too big — split the file") == {"error": "a.txt: too big", "fix": "split the file"}


# Who gets in.


def client_at(address: str, **kwargs: object) -> httpx.Client:
    """A client calling from another loopback address: its wrong credentials count against it alone."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60, **kwargs)  # type: ignore[arg-type]


WRONG = [
    {"Authorization": "Bearer wrong-token-0123456789"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Basic {base64.b64encode(b'api-user:wrong').decode()}"},
    {"Authorization": "Basic not-base64!"},
    {"Authorization": TOKEN},
]


def test_without_credentials_a_request_is_refused(api: Api) -> None:
    r = httpx.post(api.url + "retrieve", json={"question": QUESTION})
    assert error_of(r, 401)["error"] == "not authenticated"
    assert r.headers["www-authenticate"] == 'Bearer, Basic realm="qa", charset="UTF-8"'
    with client_at("127.0.0.3") as guesser:
        for headers in WRONG:
            assert error_of(guesser.get(api.url + "documents", headers=headers), 401)
    for path in ("openapi.json", "docs", "documents", "static/swagger-ui-bundle.js"):
        assert httpx.get(api.url + path).status_code == 401, path
    assert httpx.post(api.url.replace("/api/v1/", "/mcp"), json={}).status_code == 401


def test_wrong_credentials_are_locked_out_per_client(api: Api) -> None:
    """After FREE_FAILURES wrong credentials a client waits (429), even with the right token; others do not."""
    with client_at("127.0.0.4") as guesser:
        codes = [guesser.get(api.url + "documents", headers=WRONG[i % len(WRONG)]).status_code for i in range(FREE_FAILURES + 3)]
        assert codes[: FREE_FAILURES + 1] == [401] * (FREE_FAILURES + 1) and set(codes[FREE_FAILURES + 1 :]) == {429}, codes
        locked = guesser.get(api.url + "documents", headers=BEARER)
        assert error_of(locked, 429)["error"] == "too many wrong credentials from 127.0.0.4"
        assert int(locked.headers["retry-after"]) >= 1
        assert httpx.get(api.url + "documents", headers=BEARER).status_code == 200  # another client
        deadline = time.monotonic() + 60
        while (r := guesser.get(api.url + "documents", headers=BEARER)).status_code == 429:
            assert time.monotonic() < deadline, r.text
            time.sleep(float(r.headers["retry-after"]))
        assert r.status_code == 200  # the lockout ends, and the right token clears the count


def test_qa_serve_answers_its_own_host_names_and_origins_only(api: Api) -> None:
    """qa.serve.guard in front of `qa serve` too: a DNS-rebinding page is refused whatever it sends."""
    rebound = httpx.get(api.url + "documents", headers={**BEARER, "Host": "attacker.example"})
    assert rebound.status_code == 400 and "is not a name this server answers to" in rebound.text
    foreign = httpx.get(api.url + "documents", headers={**BEARER, "Origin": "http://attacker.example"})
    assert foreign.status_code == 403 and "access-control-allow-origin" not in foreign.headers
    assert httpx.get(api.url.replace("127.0.0.1", "localhost") + "documents", headers=BEARER).status_code == 200


def test_basic_login_works_as_the_token_does(api: Api) -> None:
    r = httpx.post(api.url + "retrieve", json={"question": QUESTION, "k": 1}, auth=LOGIN)
    assert r.status_code == 200 and r.json()["hits"][0]["source"] == BIDEN


@pytest.mark.parametrize(
    ("client", "access", "allowed"),
    [
        ("127.0.0.1", Access(), True),
        ("::1", Access(), True),
        ("::ffff:127.0.0.1", Access(), True),
        ("192.168.1.20", Access(), False),
        ("10.0.0.2", Access(token=TOKEN), False),
        ("127.0.0.1", Access(token=TOKEN), False),  # with a credential configured, loopback needs it too
    ],
)
def test_without_credentials_configured_only_loopback_gets_in(client: str, access: Access, allowed: bool) -> None:
    scope = {"type": "http", "client": (client, 5000), "headers": []}
    assert access.allows(scope) is allowed
    if not allowed:
        assert access.refusal(scope).status_code == (403 if access == Access() else 401)


# The schema and its docs page, offline.


def test_openapi_schema_and_docs_page(api: Api, http: httpx.Client) -> None:
    schema = http.get("openapi.json").json()
    assert schema["openapi"].startswith("3.1") and schema["servers"] == [{"url": "/api/v1"}]
    assert set(schema["paths"]) == {"/retrieve", "/ask", "/check", "/documents", "/documents/{source}"}
    assert schema["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"},
                                                       "basic": {"type": "http", "scheme": "basic"}}  # fmt: skip
    hit = schema["components"]["schemas"]["Hit"]["properties"]
    assert set(hit) == set(Hit.__dataclass_fields__) | {"sentence"}
    retrieve = schema["paths"]["/retrieve"]["post"]
    assert {"200", "400", "401", "422", "503"} <= set(retrieve["responses"])
    page = http.get("docs").text
    # Every script and style the page loads is served here: nothing from a CDN.
    assert "cdn" not in page and "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    for asset in ("static/swagger-ui-bundle.js", "static/swagger-ui.css", "static/favicon.png"):
        assert asset in page and http.get(asset).status_code == 200


def test_import_qa_loads_no_server_package() -> None:
    code = "import sys, qa, qa.cli; sys.exit(sum(m in sys.modules for m in ('gradio', 'fastapi', 'mcp', 'uvicorn', 'qa.serve')))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [("short", "QA_TOKEN is 5 characters, fewer than 16"), ("with a space in it 123", "QA_TOKEN holds spaces")],
)
def test_a_bad_token_is_a_config_error_naming_the_fix(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("QA_TOKEN", value)
    with pytest.raises(errors.ConfigError, match=message) as caught:
        config.token()
    assert "secrets.token_urlsafe()" in str(caught.value)
    assert config.token(TOKEN) == TOKEN


# The same routes on the chat's server, behind its login.


def test_the_chat_serves_the_api_behind_its_login(request: pytest.FixtureRequest) -> None:
    chat = shared_server(request)
    url = chat.url + "api/v1/"
    assert error_of(httpx.get(url + "documents"), 401)
    assert httpx.get(url + "documents", auth=AUTH).json()["count"] >= 2
    with httpx.Client(base_url=chat.url, timeout=60) as browser:
        assert browser.post("login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        r = browser.post("api/v1/retrieve", json={"question": QUESTION, "k": 1})
        assert r.status_code == 200 and r.json()["hits"][0]["source"] == BIDEN
    # A foreign Host is refused before any credential is looked at (qa/serve/guard.py covers the API).
    assert httpx.get(url + "documents", auth=AUTH, headers={"Host": "attacker.example"}).status_code == 400
    # Wrong passwords at the API count as wrong passwords at the login form: one lockout for both.
    with client_at("127.0.0.5", base_url=chat.url) as guesser:
        codes = [guesser.get("api/v1/documents", auth=(AUTH[0], f"guess-{i}")).status_code for i in range(FREE_FAILURES + 1)]
        assert codes == [401] * (FREE_FAILURES + 1)
        assert guesser.post("login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 429
