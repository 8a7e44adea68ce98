"""POST /api/v1/retrieve p50 over HTTP on loopback, beside retrieve()'s on the same index and questions.

A `qa serve` (or `qa chat`) process serves the index; this process opens the same index with Library
and asks the same questions both ways, in alternating blocks (BLOCK), so that the machine's load
falls on both alike. The client is the standard library's http.client on one kept-alive connection
(what any HTTP client pays at least); "floor" is a request the API refuses before searching (422),
the cost of HTTP, routing, auth and JSON alone. "in_process" runs the same questions through the
API's ASGI app in this process: the framework's cost without sockets or a second process to
schedule. CPU time per question (this process for retrieve(), the server's for the HTTP call, its
ticks summed over all questions) is recorded too.
Usage: QA_BENCH_DIR=/tmp/qa-bench-api python bench/bench_api.py [--articles 500] [--queries 300] [--server serve|chat]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import BENCH_DIR, TITLES, free_port, headlines, percentiles, write_result
from bench.news_index import subset_folder

# The two ways take turns by blocks, a pause between: the threads a search leaves spinning in one
# process must not be what the other's questions wait behind, while load that comes and goes falls
# on both alike.
BLOCK = 25
PAUSE = 0.5


class Api:
    """One kept-alive connection to the server, sending the token; opened again when the server has
    closed it (uvicorn closes a connection idle for 5 s, as one may be while retrieve() takes its turn)."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = self.connect()

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.connect()
        # http.client sends the headers and the body in two writes: without TCP_NODELAY the body waits
        # for the server's delayed ACK, 40 ms a request on Linux (curl and httpx set it too).
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        try:
            return self._post(path, body)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn = self.connect()
            return self._post(path, body)

    def _post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        self.conn.request("POST", f"/api/v1/{path}", json.dumps(body), self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def start(command: str, folder: Path, index: Path, port: int, token: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "qa.cli", command, str(folder), "--index", str(index), "--port", str(port)]
    proc = subprocess.Popen(cmd, env={**os.environ, "QA_TOKEN": token}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if Api(port, token).post("retrieve", {"question": "warm up"})[0] == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("qa serve did not answer within 600 s")


def timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def in_process(lib: Any, folder: Path, questions: list[str], k: int) -> dict[str, Any]:
    """The same questions through the API's ASGI app in this process (no socket, no second process to
    schedule: the framework's own cost), beside retrieve() in the same blocks."""
    import asyncio

    import httpx

    from qa.serve.access import Access
    from qa.serve.programs import api_app
    from qa.serve.service import Service

    token = secrets.token_urlsafe()
    app = api_app(Service(lib, folder), Access(token=token))
    headers = {"Authorization": f"Bearer {token}"}

    async def run() -> tuple[list[float], list[float], list[float]]:
        direct, through, floor = [], [], []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=headers) as client:
            for block in range(0, len(questions), BLOCK):
                some = questions[block : block + BLOCK]
                direct += [timed(lambda q=q: lib.retrieve(q, k=k)) for q in some]
                for q in some:
                    t = time.perf_counter()
                    await client.post("/api/v1/retrieve", json={"question": q, "k": k})
                    through.append((time.perf_counter() - t) * 1000)
                for q in some:
                    t = time.perf_counter()
                    await client.post("/api/v1/retrieve", json={"question": q, "k": 0})
                    floor.append((time.perf_counter() - t) * 1000)
        return direct, through, floor

    direct, through, floor = asyncio.run(run())
    d, h = percentiles(direct), percentiles(through)
    overhead = round(h["p50"] - d["p50"], 3)
    return {"retrieve_ms": d, "asgi_retrieve_ms": h, "asgi_floor_ms": percentiles(floor), "overhead_p50_ms": overhead}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--server", choices=("serve", "chat"), default="serve", help="qa serve, or the API beside the chat")
    parser.add_argument("--titles", type=Path, default=TITLES, help="news_titles.tsv (default: ../shared/data beside the repo)")
    args = parser.parse_args()
    from qa.library import Library

    folder, index = subset_folder(args.articles), BENCH_DIR / f"api-index-{args.articles}"
    lib = Library.open(index)
    lib.sync(folder)
    lib.warm()
    questions = headlines(folder, args.queries, args.titles)
    token, port = secrets.token_urlsafe(), free_port()
    server = start(args.server, folder, index, port, token)
    try:
        api = Api(port, token)
        load_before = os.getloadavg()
        direct, over_http, floor = [], [], []
        cpu = {"direct": 0.0, "server": 0.0}  # CPU seconds: what the load on the machine changes least
        proc = psutil.Process(server.pid)
        for q in questions[:10]:  # warm-up, both ways
            lib.retrieve(q, k=args.k)
            api.post("retrieve", {"question": q, "k": args.k})
        for block in range(0, len(questions), BLOCK):
            some = questions[block : block + BLOCK]
            used = time.process_time()
            direct += [timed(lambda q=q: lib.retrieve(q, k=args.k)) for q in some]
            cpu["direct"] += time.process_time() - used
            time.sleep(PAUSE)
            used = sum(proc.cpu_times()[:2])
            over_http += [timed(lambda q=q: api.post("retrieve", {"question": q, "k": args.k})) for q in some]
            cpu["server"] += sum(proc.cpu_times()[:2]) - used
            time.sleep(PAUSE)
            # k=0 is refused (422) before any search: HTTP, routing, credentials and JSON alone.
            floor += [timed(lambda q=q: api.post("retrieve", {"question": q, "k": 0})) for q in some]
            time.sleep(PAUSE)
        load_after = os.getloadavg()
        status, body = api.post("retrieve", {"question": questions[0], "k": args.k})
        assert status == 200 and json.loads(body)["hits"], body[:200]
    finally:
        server.terminate()
        server.wait(30)
    local = in_process(lib, folder, questions, args.k)
    lib.close()
    d, h = percentiles(direct), percentiles(over_http)
    write_result(f"api-{args.server}", {
        "server": f"qa {args.server}", "articles": args.articles, "queries": len(questions), "k": args.k,
        "retrieve_ms": d, "http_retrieve_ms": h, "http_floor_ms": percentiles(floor),
        "overhead_p50_ms": round(h["p50"] - d["p50"], 3),
        "cpu_ms_per_question": {"retrieve": round(cpu["direct"] / len(questions) * 1000, 2),
                                "server_http": round(cpu["server"] / len(questions) * 1000, 2)},
        "load_avg_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "in_process": local, "load_avg_1m_end": round(os.getloadavg()[0], 2),
    })  # fmt: skip


if __name__ == "__main__":
    main()
