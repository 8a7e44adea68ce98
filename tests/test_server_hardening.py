"""The chat server under load and attack: 50 users at once, hostile uploads, no way in without the login.

Uses the session's one `qa chat` process with a login (tests/test_app.py: shared_server), on loopback.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from gradio.routes import App
from gradio_client import Client, handle_file

from bench.load_chat import load, load_api
from qa.library import Library
from qa.serve.app import SERVER_MAX_FILE_BYTES, build_app
from qa.serve.auth import FREE_FAILURES, is_public, parse_auth
from qa.serve.handlers import Handlers
from qa.serve.upload import MAX_NAME, MAX_UPLOAD_BYTES
from tests.test_app import AUTH, QUESTION, SOURCE, Server, shared_server

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

LOAD_USERS, LOAD_SECONDS = 50, 60


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> Server:
    return shared_server(request)


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    """A plain HTTP client logged in through the page's own login form."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.post("login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        yield c


def call(http: httpx.Client, api: str, data: list) -> tuple[str, object]:
    """POST /gradio_api/call/<api>, then read its event stream: (last event, its data)."""
    r = http.post(f"gradio_api/call/{api}", json={"data": data})
    r.raise_for_status()
    event, payload = "", None
    with http.stream("GET", f"gradio_api/call/{api}/{r.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                payload = json.loads(line[5:])
    return event, payload


def upload(http: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return http.post("gradio_api/upload", files=[("files", (name, data, "text/plain"))])


def test_fifty_users_at_once_all_get_answers(server: Server) -> None:
    result = load(server.url, LOAD_USERS, 1, auth=AUTH, timeout=LOAD_SECONDS)
    print(result.row())
    assert not result.errors, result.errors[:5]
    assert len(result.latencies) == LOAD_USERS
    assert result.wall < LOAD_SECONDS


def test_a_crowd_is_answered_or_refused_at_once(server: Server) -> None:
    """150 users through /ask at once: each request is answered, or refused at once with 503 (busy —
    retry); no error and no timeout."""
    result = load_api(server.url, 150, 1, auth=AUTH, timeout=LOAD_SECONDS)
    print(result.row())
    assert not result.errors, result.errors[:5]
    assert len(result.latencies) + len(result.refused) == 150 and result.latencies
    assert all(seconds < 10 for seconds in result.refused), max(result.refused)


def test_a_heavy_check_is_bounded_and_does_not_hold_up_other_readers(server: Server, http: httpx.Client) -> None:
    parts = " ".join(f'"boat {i}"' for i in range(150))  # 150 quoted parts in 1.5 KB
    event, data = call(http, "check", [parts, 5])
    assert event == "error" and "150 quoted parts is too many" in json.dumps(data), data
    event, data = call(http, "check", ["x" * 5000, 5])
    assert event == "error" and "too long to check" in json.dumps(data), data
    heaviest = " ".join(f'"{QUESTION[:150]} {i}"' for i in range(10))[:2000]  # as much as a check may ask
    alone = timed(lambda: call(http, "retrieve", [QUESTION, 5, None, None, "hybrid"]))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        checking = pool.submit(call, http, "check", [heaviest, 5])
        beside = timed(lambda: call(http, "retrieve", [QUESTION, 5, None, None, "hybrid"]))
        assert checking.result()[0] == "complete"
    assert beside < alone + 1.0, (alone, beside)


def timed(fn: Callable[[], tuple[str, object]]) -> float:
    start = time.perf_counter()
    assert fn()[0] == "complete"
    return time.perf_counter() - start


# Who may get in: only this server's own names, its own pages' origins, a limited number of wrong passwords.


def test_dns_rebinding_request_is_refused_without_a_cors_grant(server: Server) -> None:
    """A page of attacker.example whose name now points at 127.0.0.1 (the issue's exact request)."""
    hostile = {"Host": "attacker.example", "Origin": "http://attacker.example"}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        requests = [
            c.get("config", headers=hostile),
            c.get("", headers=hostile),
            c.post("gradio_api/call/ask", json={"data": [QUESTION, 3, None, None, "hybrid"]}, headers=hostile),
            c.post("login", data={"username": AUTH[0], "password": AUTH[1]}, headers=hostile),
            c.options("gradio_api/call/ask", headers={**hostile, "Access-Control-Request-Method": "POST"}),
        ]
        # The right host, but a page of another site: no CORS grant either.
        preflight = {"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"}
        foreign = c.options("gradio_api/call/ask", headers=preflight)
    for r in requests:
        assert r.status_code == 400 and "is not a name this server answers to" in r.text, (r.request.url, r.status_code)
    for r in [*requests, foreign]:
        assert "access-control-allow-origin" not in r.headers and "Biden" not in r.text, r.headers
    assert foreign.status_code == 403


def test_failed_logins_are_locked_out_per_client(server: Server, http: httpx.Client) -> None:
    """Wrong passwords from 127.0.0.2: five are answered, then the client waits, longer each time;
    another client (127.0.0.1) logs in meanwhile."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=server.url, timeout=30, transport=transport) as guesser:
        codes = [guesser.post("login", data={"username": AUTH[0], "password": f"guess-{i}"}).status_code for i in range(8)]
        assert codes[:FREE_FAILURES + 1] == [400] * (FREE_FAILURES + 1) and set(codes[FREE_FAILURES + 1 :]) == {429}, codes
        locked = guesser.post("login", data={"username": AUTH[0], "password": AUTH[1]})
        assert locked.status_code == 429 and "Too many failed logins" in locked.text and int(locked.headers["retry-after"]) >= 1
        with httpx.Client(base_url=server.url, timeout=30) as other:
            assert other.post("login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        deadline = time.monotonic() + 60
        while (r := guesser.post("login", data={"username": AUTH[0], "password": AUTH[1]})).status_code == 429:
            assert time.monotonic() < deadline, r.text
            time.sleep(float(r.headers["retry-after"]))
        assert r.status_code == 200  # the lockout ends; the right password then works and clears the count


# Uploads: limits, names, where files land.


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_oversized_upload_gets_a_clear_message_from_the_handler(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    big = sparse(tmp_path / "big.txt", MAX_UPLOAD_BYTES + 1)
    status, _ = Handlers(Library.open(tmp_path / "index"), folder).upload([str(big)])
    assert f"over the {MAX_UPLOAD_BYTES // 2**20} MiB limit" in status and "Not added: big.txt" in status
    assert not list(folder.iterdir())


def test_oversized_uploads_through_the_server(server: Server, http: httpx.Client, tmp_path: Path) -> None:
    # Just over the page's limit: the server takes it, the handler refuses it and says why.
    client = Client(server.url, auth=AUTH, verbose=False)
    try:
        big = sparse(tmp_path / "big.txt", MAX_UPLOAD_BYTES + 1)
        status, _ = client.predict([handle_file(str(big))], api_name="/upload")
    finally:
        client.close()
    assert f"over the {MAX_UPLOAD_BYTES // 2**20} MiB limit" in status
    # Over the server's limit: refused with 413 before any handler runs.
    with sparse(tmp_path / "huge.txt", SERVER_MAX_FILE_BYTES + 1).open("rb") as f:
        r = http.post("gradio_api/upload", files=[("files", ("huge.txt", f, "text/plain"))])
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert not list(server.folder.glob("big*")) and not list(server.folder.glob("huge*"))


HOSTILE_NAMES = [
    "../evil-up.txt",
    "../../evil-up2.txt",
    "/etc/evil-abs.txt",
    f"{'/tmp'}/evil-abs2.txt",
    "sub/dir/evil-slash.txt",
    "..\\..\\evil-back.txt",
    "C:\\Windows\\evil-win.txt",
    "evil\x00nul.txt",
    "...",
    "....txt",
    "." * 300,
    "e" * 400 + ".txt",
    "<img src=x onerror=window.__pwned=1>.txt",
]


def files_outside(root: Path, inside: Path) -> set[Path]:
    return {p for p in root.rglob("*") if inside not in p.parents and p != inside}


def test_hostile_names_land_inside_the_folder_with_safe_names(server: Server, http: httpx.Client) -> None:
    root = server.folder.parent
    before_outside = files_outside(root, server.folder) - set(root.glob("gradio-tmp/**/*")) - set(root.glob("index/**/*"))
    before = set(server.folder.iterdir())
    sent, dotted = [], []
    for i, name in enumerate(HOSTILE_NAMES):
        r = upload(http, name, f"Hostile name test {i}: the quokka count was {1000 + i}.\n".encode())
        if r.status_code != 200:  # the server may refuse a name outright; that is fine too
            continue
        data = {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": name}
        # gradio keeps '....txt' as a dot file in its cache and refuses to hand it on: one call each.
        (dotted if Path(data["path"]).name.startswith(".") else sent).append(data)
    for data in dotted:
        assert call(http, "upload", [[data]])[0] == "error", data
    event, result = call(http, "upload", [sent])  # one call: one sync for all the others
    assert event == "complete", result
    assert result[0].count("<li>") >= len(sent), result
    new = set(server.folder.iterdir()) - before
    assert len(new) >= len(HOSTILE_NAMES) - 4  # '...', '....txt', dots only: no usable name, refused
    for p in new:
        assert p.parent == server.folder and p.is_file() and not p.is_symlink()
        assert not p.name.startswith(".") and not re.search(r"[/\\\x00<>]", p.name), p.name
        assert len(p.stem) <= MAX_NAME + 3, p.name  # '-2' suffixes may follow the cut stem
    after_outside = files_outside(root, server.folder) - set(root.glob("gradio-tmp/**/*")) - set(root.glob("index/**/*"))
    assert after_outside == before_outside
    for leaked in (root / "evil-up.txt", root.parent / "evil-up2.txt", Path("/etc/evil-abs.txt"), Path("/tmp/evil-abs2.txt")):
        assert not leaked.exists()


def test_files_not_uploaded_through_the_server_are_never_copied(server: Server, http: httpx.Client) -> None:
    before = set(server.folder.iterdir())
    for path in ("/etc/passwd", str(server.folder.parent / "server.log"), str(server.folder / SOURCE)):
        event, _ = call(http, "upload", [[{"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.txt"}]])
        assert event == "error", path
    assert set(server.folder.iterdir()) == before


# Login: every route refuses a request without the session; the page and gradio_client with it work.


def probe(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    """A bare urllib request, no cookies: (status, the first piece of the body).

    read1, not read: an open event stream (/heartbeat, /queue/data) never ends.
    """
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read1(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536)


def routes(server: Server) -> list[tuple[str, str]]:
    """(method, path) of every route of the app as gradio builds it, path parameters left in."""
    demo = build_app(Library.open(server.index), server.folder)
    app = App.create_app(demo.queue())

    def walk(items: list) -> Iterator[tuple[str, str]]:
        for r in items:
            if hasattr(r, "original_router"):  # an included APIRouter (/gradio_api/...)
                yield from walk(r.original_router.routes)
            for method in getattr(r, "methods", None) or ():
                yield method, r.path

    return sorted(set(walk(app.routes)))


def concrete(path: str, values: dict[str, list[str]]) -> list[str]:
    """The route's path with its parameters filled in: one path per value listed, 'x' for the rest."""
    paths = [path]
    for name, options in values.items():
        pattern = re.compile(r"\{" + name + r"(:[^}]*)?\}")
        if pattern.search(path):
            paths = [pattern.sub(lambda _m, v=v: v, p) for p in paths for v in options]
    return [re.sub(r"\{[^}]+\}", "x", p) for p in paths]


def test_every_route_refuses_requests_without_the_login(server: Server, http: httpx.Client) -> None:
    cached = upload(http, "login-probe.txt", b"a file in the upload cache\n").json()[0]
    values = {
        "api_name": ["chat", "upload", "retrieve", "ask", "check"],
        "path_or_url": [cached, str(server.folder / SOURCE)],
        "path": [cached.lstrip("/")],
    }
    seen = 0
    for method, path in routes(server):
        for url_path in concrete(path, values):
            status, body = probe(server.url.rstrip("/") + url_path, method, b"{}" if method == "POST" else None)
            seen += 1
            if is_public(url_path):  # the login form and its static files: nothing from the documents
                assert b"Biden" not in body and str(server.folder).encode() not in body, (method, url_path)
                assert b"qa-chat" not in body, (method, url_path)
            else:
                assert status == 401, (method, url_path, status, body[:200])
    assert seen > 60  # the walk found the routes; gradio 6 has about 90


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "config"),
        ("GET", "gradio_api/info"),
        ("GET", "gradio_api/openapi.json"),
        ("GET", "openapi.json"),
        ("POST", "gradio_api/call/chat"),
        ("POST", "gradio_api/call/retrieve"),
        ("POST", "gradio_api/call/ask"),
        ("POST", "gradio_api/call/check"),
        ("POST", "gradio_api/call/upload"),
        ("POST", "gradio_api/upload"),
        ("POST", "gradio_api/queue/join"),
        ("GET", "gradio_api/heartbeat/abc"),
        ("POST", "gradio_api/cancel"),
    ],
)
def test_named_endpoints_refuse_without_and_answer_with_the_login(
    server: Server, http: httpx.Client, method: str, path: str
) -> None:
    status, _ = probe(server.url + path, method, b'{"data": ["Who requested the call?"]}' if method == "POST" else None)
    assert status == 401
    if path in ("config", "gradio_api/info", "gradio_api/call/retrieve"):
        r = http.request(method, path, json={"data": [QUESTION, 3, None, None, "hybrid"]} if method == "POST" else None)
        assert r.status_code == 200, r.text[:200]


def test_file_route_refuses_without_the_login(server: Server, http: httpx.Client) -> None:
    cached = upload(http, "file-probe.txt", b"the secret file-probe words\n").json()[0]
    assert http.get(f"gradio_api/file={cached}").text == "the secret file-probe words\n"
    status, body = probe(f"{server.url}gradio_api/file={cached}")
    assert status == 401 and b"secret" not in body


def test_page_without_login_is_only_the_login_form(server: Server) -> None:
    status, body = probe(server.url)
    assert status == 200 and b"auth_required" in body
    assert b"Biden" not in body and b"qa-chat" not in body and str(server.folder).encode() not in body
    # Gradio embeds the API's schema in the page it serves: without a login it is empty.
    assert b"window.gradio_api_info = {};" in body and b"named_endpoints" not in body and b"/ask" not in body
    with pytest.raises(Exception, match="credentials"):
        Client(server.url, verbose=False)


# Binding: loopback only unless --host says otherwise.


def non_loopback_ipv4() -> list[str]:
    return [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def test_server_is_not_reachable_beyond_loopback(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    listening = {c.laddr.ip for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
    assert listening == {"127.0.0.1"}
    addresses = non_loopback_ipv4()
    if not addresses:
        return  # no other address on this machine: the bound socket above is the whole proof
    for address in addresses:
        with socket.socket() as s:
            s.settimeout(3)
            assert s.connect_ex((address, port)) != 0, f"qa chat answered on {address}:{port}"
    # The probe can fail: a socket bound to all addresses is reachable on the same address.
    with socket.create_server(("0.0.0.0", 0)) as open_server, socket.socket() as s:
        s.settimeout(3)
        assert s.connect_ex((addresses[0], open_server.getsockname()[1])) == 0


def test_host_and_auth_come_from_the_command_line_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import cli
    from qa.serve import app

    args = cli.parser().parse_args(["chat"])
    assert args.host == "127.0.0.1" and args.auth is None
    assert cli.parser().parse_args(["chat", "--host", "0.0.0.0"]).host == "0.0.0.0"
    monkeypatch.setenv("QA_AUTH", "alice:secret")
    assert parse_auth(args.auth or app.config.auth()) == ("alice", "secret")
    monkeypatch.delenv("QA_AUTH")
    assert parse_auth(args.auth or app.config.auth()) is None


# Last, as it stops the shared server (shared_server starts a new one if a later test asks).


def test_ctrl_c_stops_the_chat_with_its_own_message(server: Server) -> None:
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(30) == 0
    log = server.log.read_text()
    assert "qa chat: stopped" in log, log[-500:]
    assert "KeyboardInterrupt" not in log and "index is as it was" not in log, log[-500:]
