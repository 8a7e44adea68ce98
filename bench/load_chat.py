"""Load on the chat server: N concurrent users asking questions on the seeds, on loopback.

    .venv/bin/python bench/load_chat.py --api --users 50 --per-user 4   # issue 21's target, through /ask
    .venv/bin/python bench/load_chat.py --api --users 150 --per-user 2  # answered, or refused at once (503)
    .venv/bin/python bench/load_chat.py                      # the sweep behind qa.serve.app's queue settings
    .venv/bin/python bench/load_chat.py --users 50 --per-user 2 --settings 1,100,40

With --api each user is a plain HTTP client of the `/ask` endpoint (POST /gradio_api/call/ask, then
its event stream), as a program would call it; an answer must hold hits, and a refusal must come at
once as HTTP 503 ("busy — retry"): anything else, or a timeout, is an error.

Each setting (read_concurrency, max_queue, max_threads) gets a fresh server (qa.serve.app.serve on a copy of
seeds/, with a login); every user connects with its own Client (own session), waits for the others, then
asks its questions one after another through /chat (the streamed answer, as the page asks). Latency is
from submit to the whole streamed answer. Figures go to docs/benchmarks/chat.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from gradio_client import Client

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.common import free_port  # noqa: E402  # after the path is set
from qa.answer.extract import NOT_FOUND_CLOSEST  # noqa: E402  # every refusal ends with it

AUTH = ("load", "load-test-words")
# The questions of the latency figures in docs/benchmarks/chat.md; the last one the seeds do not answer.
QUESTIONS = (
    "What did Biden warn Putin of if Russia invaded Ukraine?",
    "Who requested the call?",
    "How long did the call last?",
    "What did Putin warn Biden of?",
    "Where will the talks be held in January?",
    "What is the boiling point of mercury in Kelvin?",
)
SWEEP = ((1, 100, 40), (4, 100, 40), (16, 100, 40), (4, 100, 8))  # (read_concurrency, max_queue, max_threads)
DEFAULT = (4, 100, 40)  # qa.serve.app's READ_CONCURRENCY, MAX_QUEUE, MAX_THREADS


@dataclass
class Load:
    """What one load run saw: per-question latencies (s), errors, and the wall time of the asking."""

    users: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connect: list[float] = field(default_factory=list)
    wall: float = 0.0
    refused: list[float] = field(default_factory=list)  # seconds until each 503 came

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")

    def row(self) -> str:
        n = len(self.latencies)
        rate = n / self.wall if self.wall else 0.0
        med = statistics.median(self.connect) if self.connect else float("nan")
        return (
            f"{self.users} users, {n} answers, {len(self.errors)} errors; p50 {self.pct(0.5):.2f} s, "
            f"p95 {self.pct(0.95):.2f} s, max {max(self.latencies, default=float('nan')):.2f} s; "
            f"{rate:.1f} answers/s over {self.wall:.1f} s; connect median {med:.2f} s"
            + (f"; {len(self.refused)} refused busy (503) within {max(self.refused):.2f} s" if self.refused else "")
        )


CITED = re.compile(r"\[\d+\]")  # a citation marker


def answer_of(result: tuple) -> str:
    history = result[0]
    content = history[-1]["content"] if history else ""
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def load(url: str, users: int, per_user: int, auth: tuple[str, str] | None = AUTH, timeout: float = 60.0) -> Load:
    """`users` threads, each its own Client, all asking at once after connecting; bounded by `timeout` per answer."""
    out, lock = Load(users), threading.Lock()
    ready = threading.Barrier(users + 1, timeout=timeout)

    def user(i: int) -> None:
        client = None
        try:
            t0 = time.perf_counter()
            client = Client(url, auth=auth, verbose=False, download_files=False, httpx_kwargs={"timeout": timeout})
            with lock:
                out.connect.append(time.perf_counter() - t0)
        except Exception as exc:  # a user that cannot connect is an error of the run, not a crash of it
            with lock:
                out.errors.append(f"connect: {type(exc).__name__}: {exc}")
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        for j in range(per_user if client is not None else 0):
            assert client is not None
            question = QUESTIONS[(i + j) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                job = client.submit(question, [], 5, "hybrid", None, None, "Ask a question", api_name="/chat")
                text = answer_of(job.result(timeout=timeout))
                if not CITED.search(text) and NOT_FOUND_CLOSEST not in text:  # the first quote may cite any hit
                    raise AssertionError(f"no cited answer: {text[:200]!r}")
                with lock:
                    out.latencies.append(time.perf_counter() - t0)
            except Exception as exc:
                with lock:
                    out.errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
        if client:
            client.close()

    out.wall = crowd(users, user, ready, timeout * per_user + 10)
    return out


def ask_once(http: httpx.Client, question: str, timeout: float) -> str:
    """One /ask call as plain HTTP: 'answer', or 'busy' for an immediate 503; raises on anything else."""
    r = http.post("gradio_api/call/ask", json={"data": [question, 5, None, None, "hybrid"]}, timeout=timeout)
    if r.status_code == 503:
        return "busy"
    r.raise_for_status()
    event, data = "", ""
    with http.stream("GET", f"gradio_api/call/ask/{r.json()['event_id']}", timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:]
    if event != "complete" or '"hits"' not in data:
        raise AssertionError(f"{event}: {data[:200]}")
    return "answer"


def load_api(url: str, users: int, per_user: int, auth: tuple[str, str] | None = AUTH, timeout: float = 60.0) -> Load:
    """`users` threads, each its own logged-in HTTP client, all asking through /ask at once."""
    out, lock = Load(users), threading.Lock()
    ready = threading.Barrier(users + 1, timeout=timeout)

    def user(i: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout) as http:
            if auth:
                # Not kept alive: the wait for the other users can outlast the server's keep-alive (5 s),
                # and a POST on a connection it closed meanwhile is reset, which says nothing of the server.
                login = {"username": auth[0], "password": auth[1]}
                http.post("login", data=login, headers={"Connection": "close"}).raise_for_status()
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return
            for j in range(per_user):
                question = QUESTIONS[(i + j) % len(QUESTIONS)]
                t0 = time.perf_counter()
                try:
                    kind = ask_once(http, question, timeout)
                    with lock:
                        (out.latencies if kind == "answer" else out.refused).append(time.perf_counter() - t0)
                except Exception as exc:
                    with lock:
                        out.errors.append(f"{question!r}: {type(exc).__name__}: {exc}")

    out.wall = crowd(users, user, ready, timeout * per_user + 10)
    return out


@contextmanager
def server(read_concurrency: int, max_queue: int, max_threads: int) -> Iterator[str]:
    """qa.serve.app.serve on a copy of the seeds with these queue settings; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "seeds", root / "docs")
        port = free_port()
        code = (
            "from qa.serve.app import ServeOptions, serve; "
            f"serve({str(root / 'docs')!r}, {str(root / 'index')!r}, ServeOptions(port={port}, auth={AUTH!r}, "
            f"read_concurrency={read_concurrency}, max_queue={max_queue}, max_threads={max_threads}))"
        )
        env = {**os.environ, "GRADIO_TEMP_DIR": str(root / "gradio-tmp")}
        log = (root / "server.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 240
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{(root / 'server.log').read_text()}")
                try:
                    if httpx.get(url, timeout=2).status_code in (200, 401):
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--per-user", type=int, default=2, help="questions each user asks, one after another")
    ap.add_argument("--settings", action="append", help="read_concurrency,max_queue,max_threads (repeatable)")
    ap.add_argument("--sweep", action="store_true", help="every setting of SWEEP, not only the server's defaults")
    ap.add_argument("--api", action="store_true", help="plain HTTP clients of /ask instead of gradio_client users of /chat")
    ap.add_argument("--url", help="measure this running server (its login: load / load-test-words) instead of starting one")
    args = ap.parse_args()
    run = load_api if args.api else load
    if args.url:
        run(args.url, 1, 1)
        print(f"load average {os.getloadavg()[0]:.1f}: {run(args.url, args.users, args.per_user).row()}")
        return 0
    sweep = list(SWEEP) if args.sweep else [DEFAULT]
    if args.settings:
        sweep = [(int(a), int(b), int(c)) for a, b, c in (s.split(",") for s in args.settings)]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for conc, max_queue, threads in sweep:
        with server(conc, max_queue, threads) as url:
            warm = run(url, 1, 1)  # the first request of a server pays one-off costs; not counted
            before = os.getloadavg()[0]
            result = run(url, args.users, args.per_user)
        print(
            f"read_concurrency={conc} max_queue={max_queue} max_threads={threads} (load average {before:.1f}): {result.row()}",
            flush=True,
        )
        for err in result.errors[:5]:
            print(f"    error: {err}")
        if warm.errors:
            print(f"    warm-up error: {warm.errors[0]}")
    return 0


def crowd(users: int, user: Callable[[int], None], ready: threading.Barrier, patience: float) -> float:
    """Run `user(i)` for each of `users` on its own thread: the seconds from the moment all are ready
    (past `ready`, a barrier this waits at too) until the last is done, each waited for `patience` s."""
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join(patience)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
