"""The watched folder with a real watcher: a `qa watch` process, and the watcher thread of a `qa chat --watch`.

Files are added, changed, renamed, deleted and broken in the watched folder while the index is read
from this process, polled until it shows the change (generous deadlines, no timings: the machine is
shared). The chat's download buttons are clicked in a real Chromium on the same `qa chat`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from qa.index.catalog import FileState
from qa.library import Library
from qa.types import SyncReport
from qa.watch import compare
from tests.test_app import QUESTION, free_port
from tests.test_browser import CHROMEDRIVER, CHROMIUM, FLAGS
from tests.test_export import holds

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
QA = [sys.executable, "-m", "qa.cli"]
DEADLINE = 120.0  # seconds: a change shows in well under 5 s on an idle machine (docs/benchmarks.md)


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    folder: Path
    index: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start(root: Path, *args: str) -> Process:
    """`qa ARGS... FOLDER --index INDEX` on a fresh copy of the seeds, its output in a log file."""
    folder, index, log = root / "docs", root / "index", root / "out.log"
    shutil.copytree(SEEDS, folder)
    env = {**os.environ, "GRADIO_TEMP_DIR": str(root / "gradio-tmp")}
    cmd = [*QA, *args[:1], str(folder), "--index", str(index), *args[1:]]
    return Process(subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT), folder, index, log)


def stop(p: Process) -> None:
    if p.proc.poll() is None:
        p.proc.kill()
        p.proc.wait(30)


def wait_for(p: Process, what: str, ready: Callable[[], object]) -> object:
    """Poll `ready` until it returns something true; fail naming `what`, with the process's output."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if p.proc.poll() is not None:
            pytest.fail(f"the process exited ({p.proc.returncode}) before {what}:\n{p.output()}")
        result = ready()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"no {what} within {DEADLINE:.0f} s:\n{p.output()}")


@pytest.fixture(scope="module")
def watching(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """One `qa watch` for the module, live (it has said "watching")."""
    p = start(tmp_path_factory.mktemp("watch"), "watch", "--quiet")
    wait_for(p, "'watching' line", lambda: "watching " in p.output())
    yield p
    stop(p)


@pytest.fixture(scope="module")
def reader(watching: Process) -> Iterator[Library]:
    """The watched index, read from this process as a program would: each read sees the newest generation."""
    lib = Library.open(watching.index)
    yield lib
    lib.close()


def sources(lib: Library, question: str) -> set[str]:
    return {h.source for h in lib.ask(question, k=5).hits}


def indexed(lib: Library) -> set[str]:
    return set(lib.view().catalog.files())


def test_an_added_file_is_answered(watching: Process, reader: Library) -> None:
    (watching.folder / "okapi.txt").write_text(
        " date 2022-02-14 The Okapi Conservation Board met in Epulu.\n"
        "The Okapi Conservation Board approved a budget of 42 million francs for the Ituri forest reserve.\n"
    )
    question = "What budget did the Okapi Conservation Board approve?"
    wait_for(watching, "answer from okapi.txt", lambda: "okapi.txt" in sources(reader, question))
    assert "42 million" in reader.ask(question).text
    wait_for(watching, "'added okapi.txt' line", lambda: "added okapi.txt;" in watching.output())


def test_a_changed_file_is_answered_from_its_new_text(watching: Process, reader: Library) -> None:
    path = watching.folder / "ferry.md"
    path.write_text("# Ferry timetable\n\nThe island ferry leaves the harbour at seven in the morning.\n")
    question = "When does the island ferry leave the harbour?"
    wait_for(watching, "ferry.md indexed", lambda: "ferry.md" in indexed(reader))
    path.write_text("# Ferry timetable\n\nThe island ferry leaves the harbour at noon, from the north pier.\n")

    def new_text() -> bool:
        texts = [h.text for h in reader.retrieve(question, k=5) if h.source == "ferry.md"]
        return bool(texts) and all("noon" in t and "seven" not in t for t in texts)

    wait_for(watching, "the new text of ferry.md", new_text)
    wait_for(watching, "'changed ferry.md' line", lambda: "changed ferry.md;" in watching.output())


def test_a_renamed_file_keeps_its_vectors(watching: Process, reader: Library) -> None:
    old, new = watching.folder / "lighthouse.txt", watching.folder / "lighthouse-1890.txt"
    old.write_text("The lighthouse keeper lit the lamp every evening for forty years.\nHis logbook survives.\n")
    wait_for(watching, "lighthouse.txt indexed", lambda: "lighthouse.txt" in indexed(reader))
    old.rename(new)
    wait_for(watching, "the rename in the index", lambda: {"lighthouse-1890.txt"} == indexed(reader) & {new.name, old.name})
    line = wait_for(
        watching, "'renamed' line",
        lambda: next((s for s in watching.output().splitlines() if "renamed lighthouse.txt -> lighthouse-1890.txt" in s), ""),
    )  # fmt: skip
    assert "; 0 passages encoded, 1 reused;" in str(line), line
    hits = reader.retrieve("Who lit the lighthouse lamp every evening?", k=3)
    assert hits[0].source == new.name and hits[0].sha256 == hashlib.sha256(new.read_bytes()).hexdigest()


def test_a_deleted_file_leaves_the_answers(watching: Process, reader: Library) -> None:
    path = watching.folder / "glacier.txt"
    path.write_text("The Aletsch glacier lost eleven metres of thickness in the hot summer of 2022.\n")
    question = "How much thickness did the Aletsch glacier lose?"
    wait_for(watching, "glacier.txt answering", lambda: "glacier.txt" in sources(reader, question))
    path.unlink()
    wait_for(watching, "glacier.txt gone from the answers", lambda: "glacier.txt" not in sources(reader, question))
    assert "glacier.txt" not in indexed(reader)
    wait_for(watching, "'removed glacier.txt' line", lambda: "removed glacier.txt;" in watching.output())


def test_a_bad_file_is_reported_in_one_line_and_watching_goes_on(watching: Process, reader: Library) -> None:
    good = watching.folder / "memo.txt"
    good.write_text("The harbour memo says the north pier closes for repairs in March.\n")
    wait_for(watching, "memo.txt indexed", lambda: "memo.txt" in indexed(reader))
    (watching.folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    good.write_text("")  # an indexed file turned unreadable keeps its last good version

    def reported() -> list[str]:
        lines = watching.output().splitlines()
        return [next((s for s in lines if f"skipped {name}: " in s), "") for name in ("broken.pdf", "memo.txt")]

    wait_for(watching, "both bad files reported", lambda: all(reported()))
    assert all(line.split(": ", 1)[1].strip() for line in reported())  # each with its reason, on one line
    assert "Traceback" not in watching.output()
    assert "memo.txt" in indexed(reader) and "broken.pdf" not in indexed(reader)
    assert "north pier closes" in reader.retrieve("When does the north pier close?", k=1)[0].text
    # Still watching: a file added now is indexed, and nothing indexed before was lost.
    (watching.folder / "after.txt").write_text("The orchard harvest began after the first frost.\n")
    wait_for(watching, "after.txt indexed", lambda: "after.txt" in indexed(reader))
    assert {p.name for p in SEEDS.iterdir()} <= indexed(reader)


def test_a_folder_replaced_at_its_path_is_watched_again(watching: Process, reader: Library) -> None:
    before = indexed(reader)
    old = watching.folder.rename(watching.folder.with_name("docs-replaced"))
    shutil.copytree(old, watching.folder)  # a new folder (another inode) with the same files, times kept
    (watching.folder / "heron.txt").write_text("A grey heron nested on the old mill roof this spring.\n")
    wait_for(watching, "heron.txt indexed from the new folder", lambda: "heron.txt" in indexed(reader))
    assert before <= indexed(reader)
    (watching.folder / "heron.txt").unlink()
    wait_for(watching, "heron.txt removed", lambda: "heron.txt" not in indexed(reader))


def test_ctrl_c_stops_the_watcher_cleanly(watching: Process, reader: Library) -> None:
    """Runs last in this module: it stops the module's watcher."""
    before = reader.view().generation
    watching.proc.send_signal(signal.SIGINT)
    assert watching.proc.wait(DEADLINE) == 0
    assert "qa watch: stopped" in watching.output() and "Traceback" not in watching.output()
    assert reader.view().generation == before  # the index is whole and still the last one published


def test_compare_names_renames_by_content() -> None:
    a, b, c = (FileState(i, sha, 1, 1) for i, sha in ((1, "aa"), (2, "bb"), (3, "cc")))
    synced = compare({"x.txt": a, "y.txt": b}, {"z.txt": a, "y.txt": c, "w.txt": b}, SyncReport(), "gen-000002")
    assert synced.renamed == (("x.txt", "z.txt"),)
    assert (synced.added, synced.changed, synced.removed) == (("w.txt",), ("y.txt",), ())


# -- the chat with --watch ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, str]]:
    """One `qa chat --watch` (no login) for the module, answering and watching."""
    port = free_port()
    p = start(tmp_path_factory.mktemp("chat-watch"), "chat", "--watch", "--port", str(port))
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(p, "the chat answering", answers)
    wait_for(p, "the chat watching", lambda: "watching " in p.output())
    yield p, url
    p.proc.send_signal(signal.SIGINT)
    try:
        p.proc.wait(60)
    finally:
        stop(p)


def ask_sources(client: Client, question: str) -> set[str]:
    return {h["source"] for h in client.predict(question, 5, api_name="/ask")["hits"]}


def test_the_chat_serves_each_new_generation_of_its_watched_folder(chat: tuple[Process, str]) -> None:
    p, url = chat
    client = Client(url, verbose=False)
    question = "What did the volcano observatory record on Stromboli?"
    path = p.folder / "stromboli.txt"
    path.write_text("The volcano observatory recorded a lava fountain on Stromboli on the night of 3 July.\n")
    wait_for(p, "the chat answering from stromboli.txt", lambda: "stromboli.txt" in ask_sources(client, question))
    path.unlink()
    wait_for(p, "stromboli.txt gone from the chat's answers", lambda: "stromboli.txt" not in ask_sources(client, question))
    out = p.output()
    assert "qa chat: " in out and "added stromboli.txt;" in out and "removed stromboli.txt;" in out
    client.close()


def test_uploads_and_the_watcher_take_turns(chat: tuple[Process, str], tmp_path: Path) -> None:
    p, url = chat
    client = Client(url, verbose=False)
    doc = tmp_path / "kelp.txt"
    doc.write_text("The kelp forest survey counted nine hundred sea otters along the bay.\n")
    status, _ = client.predict([handle_file(str(doc))], api_name="/upload")
    assert "Added kelp.txt" in status and "failed" not in status, status
    assert "kelp.txt" in ask_sources(client, "How many sea otters did the kelp forest survey count?")
    assert "not synced" not in p.output()
    client.close()


@pytest.fixture(scope="module")
def downloads_browser(chat: tuple[Process, str]) -> Iterator[tuple[webdriver.Chrome, Path]]:
    """A headless Chromium that saves downloads into a folder of its own."""
    missing = [x for x in (CHROMIUM, CHROMEDRIVER) if not Path(x).exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing — install them: apt-get install -y chromium chromium-driver")
    with tempfile.TemporaryDirectory(prefix="qa-chromium-") as profile, tempfile.TemporaryDirectory(prefix="qa-dl-") as saved:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in [*FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"download.default_directory": saved, "download.prompt_for_download": False})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver, Path(saved)
        finally:
            driver.quit()


def test_the_download_buttons_save_the_last_answers_evidence(
    chat: tuple[Process, str], downloads_browser: tuple[webdriver.Chrome, Path]
) -> None:
    p, url = chat
    driver, saved = downloads_browser
    driver.get(url)
    box = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    assert not [b for b in driver.find_elements(By.CSS_SELECTOR, "#qa-export button") if b.is_displayed()]
    box.send_keys(QUESTION, Keys.ENTER)
    for fmt in ("csv", "json", "md"):
        WebDriverWait(driver, 60).until(lambda d, f=fmt: d.find_element(By.ID, f"qa-export-{f}").is_displayed())
        driver.find_element(By.ID, f"qa-export-{fmt}").click()

    def downloaded() -> dict[str, Path]:
        done = {f.suffix: f for f in saved.glob("qa-answer-*") if f.suffix in (".csv", ".json", ".md")}
        return done if len(done) == 3 else {}

    by_suffix: dict[str, Path] = wait_for(p, "three downloads", downloaded)  # type: ignore[assignment]
    rows = list(csv.DictReader(by_suffix[".csv"].read_text(encoding="utf-8-sig").splitlines()))
    assert rows and all(holds(p.folder, r["file"], int(r["line_start"]), int(r["line_end"]), r["quote"]) for r in rows)
    assert all(r["sha256"] == hashlib.sha256((p.folder / r["file"]).read_bytes()).hexdigest() for r in rows)
    data = json.loads(by_suffix[".json"].read_text())
    assert data["question"] == QUESTION and [e["quote"] for e in data["evidence"]] == [r["quote"] for r in rows]
    assert f"sha256 `{rows[0]['sha256']}`" in by_suffix[".md"].read_text()
    # The generation the chat answered from: the one its index has published (nothing changed since).
    assert data["generation"] == json.loads((p.index / "manifest.json").read_text())["generation"]
