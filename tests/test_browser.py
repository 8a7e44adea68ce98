"""The chat page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

The page is the session's one `qa chat` with a login (tests/test_app.py: shared_server); one browser
per module logs in through the page's own form. These tests never skip: without the browser they
fail and say what to install.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from qa.serve.app import SERVER_MAX_FILE_BYTES
from qa.serve.render import EMPTY_DOCUMENT, EMPTY_SOURCES
from tests.conftest import make_pdf
from tests.test_app import AUTH, PAYLOAD_NAME, PAYLOAD_TITLE, QUESTION, SOURCE, plain, shared_server

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

REPO = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
]  # fmt: skip
MARKER = re.compile(r"\[\d+\]")


@pytest.fixture(scope="module")
def url(request: pytest.FixtureRequest) -> str:
    """The session's `qa chat` with a login (tests/test_app.py): the seeds plus PAYLOAD_NAME."""
    return shared_server(request).url


def log_in(driver: WebDriver, url: str) -> None:
    driver.get(url)
    fields = WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "input"))
    assert not driver.find_elements(By.ID, "qa-chat"), "the page showed the chat before the login"
    fields[0].send_keys(AUTH[0])
    fields[1].send_keys(AUTH[1], Keys.ENTER)
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))


@pytest.fixture(scope="module")
def browser(url: str) -> Iterator[WebDriver]:
    """One headless Chromium for the module, logged in; each test loads the page afresh."""
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
            log_in(driver, url)
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


def assert_nothing_ran(browser: WebDriver) -> None:
    time.sleep(1)  # give any injected handler time to fire
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    panels = ["#qa-chat", "#qa-sources", "#qa-document", "#qa-timeline", "#vg-tooltip-element"]
    assert not browser.find_elements(By.CSS_SELECTOR, ", ".join(f"{p} img[src='x'], {p} img[src='y']" for p in panels))
    assert not browser.find_elements(By.CSS_SELECTOR, ", ".join(f"{p} script" for p in panels))


def test_script_payload_in_a_document_shows_as_text_and_never_runs(url: str, browser: WebDriver, tmp_path: Path) -> None:
    question = 'What about the zebra festival costumes <img src=x onerror="window.__pwned=1">?'
    text = ask(browser, url, question)
    assert question in text  # the question, as text
    answer = text.split(question, 1)[1]
    assert "<script>window.__pwned=1</script>" in answer or '<img src=x onerror="window.__pwned=1">' in answer
    sources = browser.find_element(By.ID, "qa-sources").text
    assert "<script>window.__pwned=1</script>" in sources and PAYLOAD_NAME in sources and PAYLOAD_TITLE in sources
    # The timeline: the file name as an axis label and in the tooltip of its point, as text.
    timeline = browser.find_element(By.ID, "qa-timeline")
    assert "<img src=x onerror" in timeline.text
    tips = []
    for point in browser.find_elements(By.CSS_SELECTOR, "#qa-timeline path.mark-symbol, #qa-timeline .role-mark path"):
        ActionChains(browser).move_to_element(point).perform()
        time.sleep(0.3)
        tips += [t.text for t in browser.find_elements(By.ID, "vg-tooltip-element")]
    assert any(PAYLOAD_NAME in t for t in tips), tips
    assert_nothing_ran(browser)
    # The document viewer: name, title and text, as text.
    cards = browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-card")
    index = next(i for i, c in enumerate(cards) if PAYLOAD_NAME in c.text)
    browser.find_element(By.CSS_SELECTOR, f"#qa-sources [data-open='{index}']").click()
    WebDriverWait(browser, 30).until(lambda d: PAYLOAD_NAME in d.find_element(By.ID, "qa-document").text)
    document = browser.find_element(By.ID, "qa-document").text
    assert '<img src=x onerror="window.__pwned=1">' in document and PAYLOAD_TITLE in document
    assert_nothing_ran(browser)
    browser.save_screenshot(str(tmp_path / "payload.png"))


def test_claim_mode_shows_a_payload_claim_as_text(url: str, browser: WebDriver, tmp_path: Path) -> None:
    claim = "The zebra festival organisers published <script>window.__pwned=1</script> a statement"
    browser.get(url)
    box = WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    browser.find_element(By.XPATH, "//*[@id='qa-task']//label[contains(., 'Check a claim')]").click()
    box.send_keys(claim, Keys.ENTER)
    WebDriverWait(browser, 60).until(lambda d: PAYLOAD_NAME in d.find_element(By.ID, "qa-sources").text)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#qa-chat .message")) >= 2)
    chat = browser.find_element(By.ID, "qa-chat").text
    assert chat.count("<script>window.__pwned=1</script>") >= 2, chat  # the claim, and where it was found
    assert "<mark>" not in chat
    assert_nothing_ran(browser)
    browser.save_screenshot(str(tmp_path / "claim.png"))


def upload_in_page(browser: WebDriver, url: str, path: Path) -> None:
    """Open the page's Upload tab and drop `path` into its file input, as a reader would."""
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-question textarea"))
    browser.find_element(By.XPATH, "//button[@role='tab' and normalize-space()='Upload']").click()
    browser.find_element(By.CSS_SELECTOR, "#qa-files input[type=file]").send_keys(str(path))


def test_oversized_file_in_the_page_gets_a_clear_message(url: str, browser: WebDriver, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(SERVER_MAX_FILE_BYTES + 1)  # sparse: nothing is written, the size is all that counts
    upload_in_page(browser, url, big)
    message = WebDriverWait(browser, 30).until(
        lambda d: (t := d.find_element(By.TAG_NAME, "body").text) and "maximum allowed size" in t and t
    )
    assert "big.txt" in message
    browser.save_screenshot(str(tmp_path / "oversized.png"))


def test_login_page_lets_the_reader_in_and_the_chat_works(url: str, browser: WebDriver) -> None:
    browser.delete_all_cookies()  # logged out: the page is only the login form (log_in checks)
    log_in(browser, url)
    text = ask(browser, url, QUESTION)  # reloads the page: the session cookie keeps the reader in
    assert "[1]" in text and SOURCE in browser.find_element(By.ID, "qa-sources").text


def test_upload_in_the_page_makes_a_document_answerable(url: str, browser: WebDriver, tmp_path: Path) -> None:
    doc = tmp_path / "heron survey.md"
    doc.write_text(" date 2022-03-01 Heron survey.\nThe heron survey counted 317 grey herons nesting on Lake Kivu islands.\n")
    upload_in_page(browser, url, doc)
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


# Citations a reader can follow (see also tests/test_app.py).

CITED_LINES = re.compile(r"lines? (\d+)(?:-(\d+))?")
# The line number the gutter shows on the row of the first and of the last piece of the passage:
# the ::before of the last line-number span at or above that row.
GUTTER_JS = """
const doc = document.querySelector('#qa-document');
const rects = [...doc.querySelector('.qa-passage-mark').getClientRects()].filter((r) => r.width > 1);
const spans = [...doc.querySelectorAll('.qa-ln')];
const shown = (y) => {
  let at = null;
  for (const s of spans) if (s.getBoundingClientRect().top <= y + 1) at = s;
  return at && getComputedStyle(at, '::before').content;
};
return [shown(rects[0].top), shown(rects[rects.length - 1].top)];
"""
POINTS = "#qa-timeline path.mark-symbol, #qa-timeline .role-mark path"  # the timeline's points
IN_VIEW_JS = """const r = document.querySelector('#qa-target').getBoundingClientRect();
return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;"""


def tab(driver: WebDriver, name: str) -> None:
    driver.find_element(By.XPATH, f"//button[@role='tab' and normalize-space()='{name}']").click()


def markers(driver: WebDriver) -> list[tuple[int, int]]:
    """(answer's place, n) of every marker button in the chat, in order."""
    found = []
    for button in driver.find_elements(By.CSS_SELECTOR, "#qa-chat button.qa-cite"):
        m = re.search(r"\bqa-cite-(\d+)-(\d+)\b", button.get_attribute("class") or "")
        assert m and button.text == f"[{m[2]}]", button.get_attribute("outerHTML")
        found.append((int(m[1]), int(m[2])))
    return found


def ask_more(driver: WebDriver, question: str) -> None:
    """Ask a further question on the page as it is; wait until its markers are all in."""
    turns = {t for t, _ in markers(driver)}
    driver.find_element(By.CSS_SELECTOR, "#qa-question textarea").send_keys(question, Keys.ENTER)
    # The chat re-renders while the answer streams in: a marker read then may be gone the next moment.
    wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException])
    wait.until(lambda d: {t for t, _ in markers(d)} - turns)
    time.sleep(1)


def click_marker(driver: WebDriver, turn: int, n: int) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#qa-chat button.qa-cite-{turn}-{n}").click()


def viewer_html(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#qa-document .prose").get_attribute("innerHTML") or ""


def target_text(driver: WebDriver) -> str | None:
    """The marked sentence in the viewer: the numbers are in the gutter, so it reads as it is written."""
    try:
        found = driver.find_elements(By.CSS_SELECTOR, "#qa-document #qa-target")
        return found[0].text if found else None
    except StaleElementReferenceException:  # the viewer was rendered anew meanwhile
        return None


def card(driver: WebDriver, n: int) -> tuple[str, str]:
    """Card n's head and its marked sentence."""
    element = driver.find_element(By.CSS_SELECTOR, f"#qa-sources .qa-card[data-n='{n}']")
    return element.find_element(By.CLASS_NAME, "qa-head").text, element.find_element(By.CSS_SELECTOR, ".qa-passage mark").text


def test_a_marker_opens_its_source_as_its_card_does(url: str, browser: WebDriver) -> None:
    ask(browser, url, QUESTION)
    cited = markers(browser)
    assert cited and {t for t, _ in cited} == {1}, cited
    n = cited[-1][1]
    head, sentence = card(browser, n)
    # The cards carry no fused score, only which of them the answer quotes (tests/test_app.py).
    quoted = {int(e.get_attribute("data-n")) for e in browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-card")
              if e.find_elements(By.CLASS_NAME, "qa-quoted-badge")}  # fmt: skip
    assert quoted == {m for _, m in cited} and "score" not in browser.find_element(By.ID, "qa-sources").text
    # Card n's "Open document", then another card, then marker [n]: the viewer shows card n's again.
    browser.find_element(By.CSS_SELECTOR, f"#qa-sources [data-open='{n - 1}']").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qa-document #qa-target"))
    by_card = viewer_html(browser)
    tab(browser, "Sources")
    other = 1 if n != 1 else 2
    browser.find_element(By.CSS_SELECTOR, f"#qa-sources [data-open='{other - 1}']").click()
    WebDriverWait(browser, 30).until(lambda d: viewer_html(d) != by_card)
    tab(browser, "Sources")
    click_marker(browser, 1, n)
    WebDriverWait(browser, 30).until(lambda d: viewer_html(d) == by_card)
    assert browser.find_element(By.CSS_SELECTOR, "#qa-document #qa-target").text == sentence
    assert head.split(" · ")[0].split()[-1] in browser.find_element(By.CSS_SELECTOR, "#qa-document .qa-doc-head").text
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(IN_VIEW_JS))
    assert_nothing_ran(browser)


def test_a_marker_of_an_earlier_answer_opens_that_answers_source(url: str, browser: WebDriver, tmp_path: Path) -> None:
    ask(browser, url, QUESTION)
    _, first = card(browser, 1)
    ask_more(browser, "What did Peskov say about negotiations?")
    assert card(browser, 1)[1] != first  # the newest answer's card 1 is another passage
    click_marker(browser, 1, 1)
    target = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#qa-document #qa-target"))
    assert target.text == first
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(IN_VIEW_JS))
    browser.save_screenshot(str(tmp_path / "earlier-marker.png"))


def test_the_viewer_numbers_lines_as_the_citation_does(url: str, browser: WebDriver, tmp_path: Path) -> None:
    ask(browser, url, QUESTION)
    for _, n in dict.fromkeys(markers(browser)):
        tab(browser, "Sources")
        head, sentence = card(browser, n)
        cited = CITED_LINES.search(head)
        assert cited, head
        first, last = int(cited[1]), int(cited[2] or cited[1])
        click_marker(browser, 1, n)
        WebDriverWait(browser, 30).until(lambda d, want=sentence: target_text(d) == want)
        assert browser.execute_script(GUTTER_JS) == [f'"{first}"', f'"{last}"'], (n, head)
        where = browser.find_element(By.CSS_SELECTOR, "#qa-document .qa-doc-where").text
        assert where == f"Passage: {cited[0]}"
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(IN_VIEW_JS))
    browser.save_screenshot(str(tmp_path / "lines.png"))


def test_the_viewer_shows_the_page_of_a_pdf(url: str, browser: WebDriver, tmp_path: Path) -> None:
    pdf = tmp_path / "hekla survey.pdf"
    pages = ["The cartographer drew the coastline of Iceland.", "The basalt lava fields near Hekla cover 412 square kilometres."]
    pdf.write_bytes(make_pdf(pages))
    upload_in_page(browser, url, pdf)
    WebDriverWait(browser, 120).until(lambda d: "Added hekla survey.pdf" in d.find_element(By.ID, "qa-upload-status").text)
    ask(browser, url, "How many square kilometres do the basalt lava fields near Hekla cover?")
    head, _ = card(browser, 1)
    assert "hekla survey.pdf" in head and "page 2" in head, head
    click_marker(browser, 1, 1)
    WebDriverWait(browser, 30).until(lambda d: "412" in (target_text(d) or ""))
    assert browser.find_element(By.CSS_SELECTOR, "#qa-document .qa-doc-where").text == "Passage: page 2, line 1"
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#qa-document .qa-page')].map(p => [getComputedStyle(p, '::before').content,"
        " p.getBoundingClientRect().height > 0, !!(p.compareDocumentPosition(document.querySelector('#qa-target'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING || p.closest('#qa-target'))]);"
    )
    assert labels == [['"page 1"', True, True], ['"page 2"', True, True]]
    assert browser.execute_script(GUTTER_JS) == ['"1"', '"1"']  # line 1 of page 2: numbering restarts on each page
    browser.save_screenshot(str(tmp_path / "pdf.png"))


def test_clearing_the_chat_clears_sources_viewer_and_timeline(url: str, browser: WebDriver, tmp_path: Path) -> None:
    ask(browser, url, QUESTION)
    click_marker(browser, 1, markers(browser)[0][1])
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qa-document #qa-target"))
    assert browser.find_elements(By.CSS_SELECTOR, POINTS)
    browser.find_element(By.CSS_SELECTOR, "#qa-chat button[aria-label='Clear']").click()
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#qa-chat .message"))
    wait.until(lambda d: d.find_element(By.ID, "qa-sources").text == plain(EMPTY_SOURCES))  # and the Sources tab is shown
    assert not browser.find_elements(By.CSS_SELECTOR, "#qa-sources .qa-card")
    assert browser.find_elements(By.CSS_SELECTOR, "#qa-timeline [aria-label='Empty value']")
    assert not browser.find_elements(By.CSS_SELECTOR, POINTS)
    browser.save_screenshot(str(tmp_path / "cleared.png"))
    tab(browser, "Document")
    wait.until(lambda d: d.find_element(By.ID, "qa-document").text == plain(EMPTY_DOCUMENT))
    assert not browser.find_elements(By.CSS_SELECTOR, "#qa-document #qa-target")
    # The next answer starts afresh: its markers, cards and timeline work as on a new page.
    tab(browser, "Sources")
    ask_more(browser, QUESTION)
    assert {t for t, _ in markers(browser)} == {1}
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, POINTS))
    click_marker(browser, 1, 1)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qa-document #qa-target"))


# The documents panel, and the REST API's docs page (qa/serve/documents_panel.py, qa/serve/rest.py).

PANGOLIN = "pangolin notes.md"
PANGOLIN_TITLE = "<img src=x onerror=window.__pwned=1> Pangolin ${window.__pwned=1} survey"


def listing(url: str) -> dict:
    return httpx.get(url + "api/v1/documents", auth=AUTH, timeout=60).json()


def test_documents_panel_counts_filters_and_deletes_after_asking(url: str, browser: WebDriver, tmp_path: Path) -> None:
    text = f"---\ndate: 2022-05-09\ntitle: '{PANGOLIN_TITLE}'\n---\nRangers counted 64 ground pangolins in the Kruger reserve.\n"
    upload = [("files", (PANGOLIN, text.encode(), "text/markdown"))]
    added = httpx.post(url + "api/v1/documents", files=upload, auth=AUTH, timeout=120)
    assert added.status_code == 201, added.text
    before = listing(url)
    totals = f"{before['count']:,} documents, {before['passages']:,} passages"
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda d: totals in d.find_element(By.ID, "qa-intro").text)  # seen at once, on top
    tab(browser, "All documents")
    panel = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "qa-docs"))
    assert panel.text.startswith(f"{totals} in the index")
    rows = browser.find_elements(By.CSS_SELECTOR, "#qa-docs tr[data-source]")
    assert [r.get_attribute("data-source") for r in rows] == [d["source"] for d in before["documents"]]
    row = next(r for r in rows if r.get_attribute("data-source") == SOURCE)
    assert "2021-12-31" in row.text and str(next(d["passages"] for d in before["documents"] if d["source"] == SOURCE)) in row.text
    # The filter: only the pangolin notes, their title as text.
    browser.find_element(By.CSS_SELECTOR, "#qa-docs-filter textarea, #qa-docs-filter input").send_keys("PANGOLIN")
    # Every key is an input event; the panel must end on the whole word, not on a prefix typed meanwhile.
    count = (By.CSS_SELECTOR, "#qa-docs .qa-docs-count")
    WebDriverWait(browser, 30).until(lambda d: "for “PANGOLIN”" in d.find_element(*count).text)
    assert "1 shown for “PANGOLIN”" in browser.find_element(*count).text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#qa-docs tr[data-source]")) == 1
    row = browser.find_element(By.CSS_SELECTOR, "#qa-docs tr[data-source]")
    assert PANGOLIN in row.text and PANGOLIN_TITLE in row.text and "2022-05-09\nfront matter" in row.text  # the date, its source
    assert_nothing_ran(browser)
    browser.save_screenshot(str(tmp_path / "documents-filtered.png"))
    # Delete asks first; Cancel keeps the document.
    row.find_element(By.CLASS_NAME, "qa-del").click()
    assert row.find_element(By.CLASS_NAME, "qa-confirm").is_displayed()
    assert not row.find_element(By.CLASS_NAME, "qa-del").is_displayed()
    browser.save_screenshot(str(tmp_path / "documents-confirm.png"))
    row.find_element(By.CLASS_NAME, "qa-no").click()
    assert row.find_element(By.CLASS_NAME, "qa-del").is_displayed()
    time.sleep(1)
    assert PANGOLIN in {d["source"] for d in listing(url)["documents"]}
    row.find_element(By.CLASS_NAME, "qa-del").click()
    row.find_element(By.CLASS_NAME, "qa-yes").click()
    notice = WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qa-docs .qa-docs-notice"))[0].text
    assert notice == f"Deleted {PANGOLIN}: it is gone from the folder and the index."
    after = listing(url)
    assert [d for d in before["documents"] if d["source"] != PANGOLIN] == after["documents"]
    assert f"{after['count']:,} documents" in browser.find_element(By.ID, "qa-intro").text
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#qa-docs tr[data-source]"))  # filtered
    assert_nothing_ran(browser)
    browser.save_screenshot(str(tmp_path / "documents-deleted.png"))
    question = {"question": "How many ground pangolins did rangers count in the Kruger reserve?"}
    hits = httpx.post(url + "api/v1/retrieve", json=question, auth=AUTH, timeout=60).json()["hits"]
    assert PANGOLIN not in {h["source"] for h in hits}
    assert "No document matches the filter." in browser.find_element(By.ID, "qa-docs").text


def test_the_api_docs_page_renders_from_this_server_alone(url: str, browser: WebDriver, tmp_path: Path) -> None:
    browser.get(url + "api/v1/docs")  # the chat's login cookie lets the reader in
    WebDriverWait(browser, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == 7)
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert paths == {"/retrieve", "/ask", "/check", "/documents", "/documents/{source}"}
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    origin = url.rstrip("/")
    assert loaded and all(name.startswith(origin) for name in loaded), loaded  # nothing from a CDN
    browser.save_screenshot(str(tmp_path / "api-docs.png"))
