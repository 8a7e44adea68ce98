"""Shared fixtures: a copy of the seeds, an index built from it once per session, small file makers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa import Library
from qa.library import View
from qa.spans import all_slots, sentence_spans, vector_ids

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


def line_number(text: str, offset: int) -> int:
    """Which line `offset` is on, counting \r\n, \r and \n as one break each (an oracle for the chunker)."""
    return text[:offset].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


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
    """The FAISS index holds exactly each chunk's own vector and one per sentence span (qa/spans.py)."""
    rows = view.catalog.db.execute("SELECT id, text FROM chunks").fetchall()
    expected = np.sort(np.concatenate([vector_ids(i, 1 + len(sentence_spans(t))) for i, t in rows])) if rows else np.zeros(0)
    stored = view.vectors.stored(all_slots(i for i, _ in rows)) if rows else np.zeros(0)
    return len(view.vectors) == len(expected) and np.array_equal(stored, expected)
