"""Shared fixtures: a copy of the seeds, an index built from it once per session, small file makers."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
import numpy as np
import pytest

from qa import Library
from qa.index.slots import all_slots, sentence_spans, vector_ids
from qa.ingest import chunking
from qa.ingest.chunking import CountTokens, chunk_document
from qa.ingest.loaders import body_start
from qa.library import View
from qa.types import Document, Hit

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
BIDEN = "000_193af056c20aff61.txt"
PESKOV = "004_80c3188f3f983770.txt"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ that a test may change."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def seed_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """An index of seeds/, built once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("seeds")
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    lib = Library.open(tmp_path_factory.mktemp("index"))
    lib.sync(folder)
    yield lib
    lib.close()


def line_number(text: str, offset: int, pages: tuple[int, ...] = ()) -> int:
    """Which line `offset` is on, counting \r\n, \r and \n as one break each, from the top of its
    page when the text has pages (an oracle for the chunker)."""
    top = max((p for p in pages if p <= offset), default=0)
    return text[top:offset].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def check_chunks(doc: Document, count_tokens: CountTokens) -> None:
    """Every chunk invariant: exact spans, trimmed text, right lines (within the page) and page,
    within the window in tokens and in characters, in order, no sentence across a break, and
    nothing after the header or front matter left outside every chunk."""
    chunks = chunk_document(doc, count_tokens, body_start(doc))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text and c.text and c.text.strip() == c.text
        assert c.line_start == line_number(doc.text, c.start, doc.pages)
        assert c.line_end == line_number(doc.text, c.end, doc.pages)
        assert c.page == doc.page_at(c.start) and c.ocr == (c.page in doc.ocr_pages)
        assert c.date == doc.date and c.date_source == doc.date_source
        assert len(c.text) <= chunking.MAX_CHARS
    assert all(a.start < b.start for a, b in itertools.pairwise(chunks))
    sizes = count_tokens([c.text for c in chunks])
    assert all(n <= chunking.MAX_TOKENS - 2 for n in sizes), max(sizes)
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    lost = [i for i in range(body_start(doc), len(doc.text)) if not covered[i] and not doc.text[i].isspace()]
    assert not lost, f"text outside every chunk: {doc.text[lost[0] : lost[0] + 40]!r}"


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page (no third-party writer needed)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    font_id = 3
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        content_id = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def vectors_match_catalog(view: View) -> bool:
    """The FAISS index holds exactly each chunk's own vector and one per sentence span (qa/index/slots.py)."""
    rows = view.catalog.db.execute("SELECT id, text FROM chunks").fetchall()
    expected = np.sort(np.concatenate([vector_ids(i, 1 + len(sentence_spans(t))) for i, t in rows])) if rows else np.zeros(0)
    stored = view.vectors.stored(all_slots(i for i, _ in rows)) if rows else np.zeros(0)
    return len(view.vectors) == len(expected) and np.array_equal(stored, expected)


# Two encodings of one text that differ only in what shares its batch agree to float rounding. In
# fp32 the difference is ~1e-7, and after the float16 the index keeps an element may sit one step
# (2**-11 below 1) apart: a cosine of 0.9999 and scores 1e-3 apart are far outside what rounding can
# do and far inside any real change. bf16 keeps 8 bits of mantissa (relative steps of 2**-8 = 0.004
# per operation), so bf16 builds are compared with ties of 1e-2.
MIN_COSINE = 0.9999
TIE_FP32 = 1e-3
TIE_BF16 = 1e-2


def assert_same_vectors(a: np.ndarray, b: np.ndarray) -> None:
    """Row by row the same vectors up to float16 rounding of float32 encodings."""
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= 2**-11, np.abs(a - b).max()
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cos.min() >= MIN_COSINE, cos.min()


def place(hit: Hit) -> tuple[str, int, int]:
    """A hit's passage by where it stands, the same in two builds that number chunks differently."""
    return (hit.source, hit.start, hit.end)


def assert_same_ranking(expected: list[Hit], got: list[Hit], tie: float = TIE_FP32) -> None:
    """The same hits in the same order with the same scores, except that hits whose scores lie
    within `tie` of each other may trade places, and the last place may go to a hit tied with it."""
    assert len(got) == len(expected), (len(expected), len(got))
    pos = {place(h): i for i, h in enumerate(got)}
    kept = {place(h) for h in expected}
    cut = expected[-1].score if expected else 0.0
    for h in expected:
        assert place(h) in pos or h.score - cut <= tie, (place(h), h.score, "missing")
    for h in got:
        assert place(h) in kept or abs(h.score - cut) <= tie, (place(h), h.score, "extra")
    for i, a in enumerate(expected):
        if place(a) in pos:
            assert abs(got[pos[place(a)]].score - a.score) <= tie, (place(a), a.score, got[pos[place(a)]].score)
        for b in expected[i + 1 :]:
            if place(a) in pos and place(b) in pos and a.score - b.score > tie:
                assert pos[place(a)] < pos[place(b)], (place(a), place(b), a.score, b.score)


def wait_until_serving(
    proc: subprocess.Popen[bytes], log: Path, name: str, ready: Callable[[], bool], within: float = 240
) -> None:
    """Poll `ready` (an HTTP request to the server `proc` started) until it holds; fail with the
    server's log if `proc` exits first or `within` seconds pass."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"{name} did not answer within {within:.0f} s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask a server to stop (SIGTERM), then kill it after 15 s."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


class Running(Protocol):
    proc: subprocess.Popen[bytes]


S = TypeVar("S", bound=Running)


def per_session(request: pytest.FixtureRequest, key: pytest.StashKey[S], start: Callable[[Path], S], name: str) -> S:
    """One server per test session under `key`: started by `start(a fresh temporary folder)` when none
    runs yet (or a test stopped it), stopped when the session ends."""
    config = request.config
    if key not in config.stash or config.stash[key].proc.poll() is not None:
        config.stash[key] = started = start(request.getfixturevalue("tmp_path_factory").mktemp(name))
        config.add_cleanup(lambda: stop(started.proc))
    return config.stash[key]
