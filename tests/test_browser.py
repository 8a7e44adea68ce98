"""The chat page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

These tests never skip: without the browser they fail and say what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
]  # fmt: skip
QUESTION = "What did Biden warn Putin of if Russia invaded Ukraine?"
SOURCE = "000_193af056c20aff61.txt"
PAYLOAD_DOC = (
    " date 2022-01-05 The zebra festival report.\n"
    "The zebra festival organisers published <script>window.__pwned=1</script> a statement about striped costumes.\n"
    'Visitors saw <img src=x onerror="window.__pwned=1"> many zebra costumes at the festival in the city park.\n'
)
MARKER = re.compile(r"\[\d+\]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m qa.app` (= `qa chat`) on the seeds plus one document carrying a script payload."""
    root = tmp_path_factory.mktemp("browser")
    folder, log = root / "docs", root / "server.log"
    shutil.copytree(REPO / "seeds", folder)
    (folder / "zebra.txt").write_text(PAYLOAD_DOC)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "QA_AUTH"} | {"GRADIO_TEMP_DIR": str(root / "gradio-tmp")}
    cmd = [sys.executable, "-m", "qa.app", str(folder), "--index", str(root / "index"), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa chat exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"qa chat did not answer on {address} within 240 s:\n{log.read_text()}")
            try:
                if httpx.get(address, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing — install them: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="qa-chromium-") as profile:
        for flag in [*FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def ask(driver: WebDriver, url: str, question: str) -> str:
    """Load the page, ask, and wait until the streamed answer is complete; returns the chat text."""
    driver.get(url)
    box = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    # Record every state the chat passes through, to see the answer arrive in pieces.
    driver.execute_script("""
        window.__states = [];
        const chat = document.querySelector('#qa-chat');
        new MutationObserver(() => window.__states.push(chat.innerText))
            .observe(chat, {subtree: true, childList: true, characterData: true});
    """)
    box.send_keys(question, Keys.ENTER)
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: "qa-card" in d.find_element(By.ID, "qa-sources").get_attribute("innerHTML"))
    wait.until(lambda d: MARKER.search(d.find_element(By.ID, "qa-chat").text))
    time.sleep(1)  # the last pieces of the stream
    return driver.find_element(By.ID, "qa-chat").text


def test_ask_shows_streamed_answer_and_sources(url: str, browser: WebDriver, tmp_path: Path) -> None:
    started = time.monotonic()
    text = ask(browser, url, QUESTION)
    assert "[1]" in text and "Biden" in text, text
    sources = browser.find_element(By.ID, "qa-sources")
    assert SOURCE in sources.text and "Open document" in sources.text
    assert browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-passage mark")
    assert browser.find_elements(By.CSS_SELECTOR, "#qa-timeline svg, #qa-timeline canvas")
    counts = [len(MARKER.findall(s)) for s in browser.execute_script("return window.__states")]
    assert 0 < min(c for c in counts if c) < max(counts), f"the answer did not stream: marker counts {counts}"
    shot = tmp_path / "chat.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    assert time.monotonic() - started < 60


def test_open_source_shows_the_document_with_the_passage_in_view(url: str, browser: WebDriver, tmp_path: Path) -> None:
    ask(browser, url, QUESTION)
    sentence = browser.find_element(By.CSS_SELECTOR, "#qa-sources .qa-card mark").text
    browser.find_element(By.CSS_SELECTOR, "#qa-sources [data-open='0']").click()
    target = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-document #qa-target"))
    assert target.text == sentence
    assert SOURCE in browser.find_element(By.ID, "qa-document").text
    # Scrolled into view: the marked sentence is inside the window.
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "const r = document.querySelector('#qa-target').getBoundingClientRect();"
            "return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;"
        )
    )
    browser.save_screenshot(str(tmp_path / "document.png"))


def test_script_payload_in_a_document_shows_as_text_and_never_runs(url: str, browser: WebDriver, tmp_path: Path) -> None:
    question = 'What about the zebra festival costumes <img src=x onerror="window.__pwned=1">?'
    text = ask(browser, url, question)
    assert question in text  # the question, as text
    answer = text.split(question, 1)[1]
    assert "<script>window.__pwned=1</script>" in answer or '<img src=x onerror="window.__pwned=1">' in answer
    assert "<script>window.__pwned=1</script>" in browser.find_element(By.ID, "qa-sources").text
    cards = browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-card")
    index = next(i for i, c in enumerate(cards) if "zebra.txt" in c.text)
    browser.find_element(By.CSS_SELECTOR, f"#qa-sources [data-open='{index}']").click()
    WebDriverWait(browser, 30).until(lambda d: "zebra.txt" in d.find_element(By.ID, "qa-document").text)
    assert '<img src=x onerror="window.__pwned=1">' in browser.find_element(By.ID, "qa-document").text
    time.sleep(1)  # give any injected handler time to fire
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, "#qa-chat img[src='x'], #qa-sources img, #qa-document img")
    assert not browser.find_elements(By.CSS_SELECTOR, "#qa-chat script, #qa-sources script, #qa-document script")
    browser.save_screenshot(str(tmp_path / "payload.png"))


def test_upload_in_the_page_makes_a_document_answerable(url: str, browser: WebDriver, tmp_path: Path) -> None:
    doc = tmp_path / "heron survey.md"
    doc.write_text(" date 2022-03-01 Heron survey.\nThe heron survey counted 317 grey herons nesting on Lake Kivu islands.\n")
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    browser.find_element(By.XPATH, "//button[@role='tab' and normalize-space()='Upload']").click()
    browser.find_element(By.CSS_SELECTOR, "#qa-files input[type=file]").send_keys(str(doc))
    status = WebDriverWait(browser, 120).until(
        lambda d: (s := d.find_element(By.ID, "qa-upload-status").text) and "Added" in s and s
    )
    assert "Added heron survey.md: searchable now." in status
    text = ask(browser, url, "How many grey herons were nesting on the Lake Kivu islands?")
    assert "317" in text and "[1]" in text
    assert "heron survey.md" in browser.find_element(By.ID, "qa-sources").text


def test_settings_apply_to_the_next_question(url: str, browser: WebDriver) -> None:
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    browser.find_element(By.XPATH, "//button[@role='tab' and normalize-space()='Settings']").click()
    browser.find_element(By.CSS_SELECTOR, "#qa-since input.time").send_keys("2021-12-31", Keys.ENTER)
    k = browser.find_element(By.CSS_SELECTOR, "#qa-k input[type=number]")
    k.clear()
    k.send_keys("2", Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, "#qa-question textarea").send_keys(QUESTION, Keys.ENTER)
    browser.find_element(By.XPATH, "//button[@role='tab' and normalize-space()='Sources']").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-card"))
    heads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-head")]
    assert len(heads) == 2, heads
    dates = [re.search(r"\d{4}-\d\d-\d\d", h) for h in heads]
    assert all(d and d.group() >= "2021-12-31" for d in dates), heads
