"""How soon a watched folder's changes show in answers: a real `qa watch` process, read from this one.

    .venv/bin/python bench/watch_latency.py                                   # the seeds
    .venv/bin/python bench/watch_latency.py --corpus ~/.cache/qa/news/articles \\
        --index ~/.cache/qa/eval-index/articles-fa1293645c                   # 3,788 news articles

The folder (and the index, when given: it is never written) are copied into $QA_BENCH_DIR/watch first.
Each round adds a file, changes it, renames it and deletes it; each time is from the file operation to
the moment a `Library` in this process (as a program or the chat reads the index) answers from the
new state: the added or changed text retrieved, the renamed file cited by its new name, the deleted
one gone from `ask`'s hits; and, of that, the time until the sync's generation was published (the
manifest names it): the rest is the reader opening it. Polled every 100 ms. Prints a Markdown table
and writes bench/results/watch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import BENCH_DIR, RESULTS
from qa.library import Library

REPO = Path(__file__).resolve().parents[1]
POLL = 0.1  # a reader asking 10 times a second; faster polling would take CPU from the watcher on 2 cores
DEADLINE = 300.0
WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "heron", "indigo", "juniper"]


def until(ready: Callable[[], bool], what: str, published: Callable[[], bool] = lambda: True) -> tuple[float, float]:
    """Seconds until `ready()` holds, and until `published()` does (the sync's generation is out),
    polling both every POLL seconds."""
    start, seen, done = time.monotonic(), 0.0, 0.0
    while time.monotonic() - start < DEADLINE:
        if not seen and published():
            seen = time.monotonic() - start
        if not done and ready():
            done = time.monotonic() - start  # after the reader's own work: opening a new generation counts
        if seen and done:
            return done, seen
        time.sleep(POLL)
    raise SystemExit(f"no {what} within {DEADLINE:.0f} s")


def prepare(corpus: Path, index: Path | None) -> tuple[Path, Path]:
    root = BENCH_DIR / "watch"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(["cp", "-a", str(corpus), str(root / "docs")], check=True)  # -a keeps mtimes: nothing re-read
    if index:
        subprocess.run(["cp", "-a", str(index), str(root / "index")], check=True)
    return root / "docs", root / "index"


def one_round(lib: Library, folder: Path, log: Path, r: int) -> dict[str, float]:
    """Add, change, rename, delete one file; seconds until the reader sees each, and passages the rename encoded."""
    word = WORDS[r % len(WORDS)]
    name, renamed = f"bench-{word}-{r}.txt", f"bench-{word}-{r}-moved.txt"
    question = f"What did the {word} harbour committee approve?"
    path = folder / name

    def cited(source: str, needle: str) -> Callable[[], bool]:
        return lambda: any(h.source == source and needle in h.text for h in lib.retrieve(question, k=5))

    def published() -> Callable[[], bool]:
        """True once a generation newer than the current one is published (read from the manifest alone)."""
        before = lib.store.manifest_generation()
        return lambda: lib.store.manifest_generation() != before

    times: dict[str, float] = {}
    out = published()
    path.write_text(f"The {word} harbour committee approved a budget of {r + 11} million for the new pier.\n")
    times["add"], times["add_synced"] = until(cited(name, f"{r + 11} million"), "added file", out)
    out = published()
    path.write_text(f"The {word} harbour committee approved a budget of {r + 97} million for the new pier.\n")
    times["change"], times["change_synced"] = until(cited(name, f"{r + 97} million"), "changed text", out)
    out = published()
    path.rename(folder / renamed)
    times["rename"], times["rename_synced"] = until(cited(renamed, f"{r + 97} million"), "renamed file", out)
    out = published()
    (folder / renamed).unlink()
    gone = lambda: all(h.source != renamed for h in lib.ask(question, k=5).hits)  # noqa: E731
    times["delete"], times["delete_synced"] = until(gone, "deletion", out)
    until(lambda: f"removed {renamed};" in log.read_text(), "the watcher's line")  # the rename's line came before it
    moved = re.search(rf"renamed {re.escape(name)} -> {re.escape(renamed)}; (\d+) passages? encoded", log.read_text())
    times["rename_encoded"] = float(moved.group(1)) if moved else float("nan")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "seeds")
    parser.add_argument("--index", type=Path, help="an index already built over --corpus (copied, never written)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder, index = prepare(args.corpus, args.index)
    log = folder.parent / "watch.log"
    cmd = [sys.executable, "-m", "qa.cli", "watch", str(folder), "--index", str(index), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        start = time.monotonic()
        until(lambda: "watching " in log.read_text() or proc.poll() is not None, "watcher")
        ready = time.monotonic() - start
        lib = Library.open(index)
        lib.warm()
        load = os.getloadavg()
        rounds = [one_round(lib, folder, log, r) for r in range(args.rounds)]
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(60)
    summary = {
        op: {"median": statistics.median(t[op] for t in rounds), "max": max(t[op] for t in rounds),
             "synced_median": statistics.median(t[op + "_synced"] for t in rounds)}
        for op in ("add", "change", "rename", "delete")
    }  # fmt: skip
    result = {"corpus": str(args.corpus), "documents": lib.view().manifest["documents"], "rounds": rounds,
              "summary": summary, "startup_s": ready, "load": [load, load_after]}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "watch.json").write_text(json.dumps(result, indent=2))
    print(f"{result['documents']} documents, {args.rounds} rounds, load {load[0]:.1f} -> {load_after[0]:.1f}; "
          f"watching after {ready:.1f} s")  # fmt: skip
    print("| change | median s | max s | of which until published (median) |\n|---|---:|---:|---:|")
    for op, s in summary.items():
        print(f"| {op} | {s['median']:.2f} | {s['max']:.2f} | {s['synced_median']:.2f} |")
    print(f"passages encoded by each rename: {sorted({int(t['rename_encoded']) for t in rounds})}")


if __name__ == "__main__":
    main()
