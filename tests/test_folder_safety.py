"""What a folder can hold that must not be indexed, or must not stop the rest: links out of it,
folders that cannot be entered, paths past PATH_MAX, a 5 MB run without spaces, placeholder dates,
uploads the index refuses."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from embeddings.encoder import token_counter
from qa import Library
from qa.ingest import chunking
from qa.ingest.scan import scan
from qa.search.dates import anchor, parse_question_dates
from qa.types import Document

from .conftest import BIDEN, SEEDS, check_chunks
from .test_bad_input import plan_as


def test_links_out_of_the_folder_are_skipped_and_forgotten(tmp_path: Path) -> None:
    folder, outside = tmp_path / "docs", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (outside / "private.txt").write_text("The payroll password is swordfish.")
    (folder / "notes.txt").write_text("The gardener planted tulips by the gate.")
    (folder / "inside.txt").symlink_to(folder / "notes.txt")  # a link within the folder is followed
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "private.txt").symlink_to(outside / "private.txt")
    (folder / "away").symlink_to(outside, target_is_directory=True)
    skipped: list[tuple[Path, str]] = []
    assert [p.name for p in scan(folder, skipped)] == ["inside.txt", "notes.txt"]
    reasons = {p.name: why for p, why in skipped}
    assert set(reasons) == {"passwd.txt", "private.txt", "away"}
    assert all("outside the folder" in why and "—" in why for why in reasons.values())


def test_a_link_indexed_by_an_older_qa_is_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    (folder / BIDEN).unlink()
    (folder / BIDEN).symlink_to(SEEDS / BIDEN)  # the same text, now reached through a link out of the folder
    report = lib.sync(folder)
    assert report.removed == 1 and [s.path for s in report.skipped] == [BIDEN]
    assert lib.document(BIDEN) is None
    lib.close()


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to drop to another user")
def test_a_folder_listed_but_not_entered_and_an_overlong_path_do_not_stop_the_sync() -> None:
    folder = Path(tempfile.mkdtemp(prefix="qa-formats-"))
    try:
        folder.chmod(0o755)
        (folder / "open.txt").write_text("The gardener planted tulips.")
        (folder / "closed").mkdir()
        (folder / "closed" / "inner.txt").write_text("Listed, never read.")
        (folder / "closed").chmod(0o744)  # others may list it (r) but not enter it (no x)
        fd = os.open(folder, os.O_RDONLY)
        for _ in range(18):  # 18 x 251 characters: past PATH_MAX (4096)
            os.mkdir("d" * 250, dir_fd=fd)
            fd, old = os.open("d" * 250, os.O_RDONLY, dir_fd=fd), fd
            os.close(old)
        with open(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write("Too deep to name.")
        os.close(fd)
        new, skipped, _ = plan_as(65534, folder)
        assert new == ["open.txt"]
        assert "Permission denied" in skipped["closed/inner.txt"]
        assert any("PATH_MAX" in why for why in skipped.values())
    finally:
        (folder / "closed").chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_5mb_run_without_spaces_is_cut_to_the_window() -> None:
    count = token_counter(None)
    check_chunks(Document("blob.txt", "Header line.\n" + "x" * 50_000), count)  # every invariant, on a smaller run
    text = "Header line.\n" + "x" * (5 * 2**20)  # a word over 100 characters is one token: 5 MB counted as 1
    chunks = chunking.chunk_document(Document("blob.txt", text), count)
    assert all(text[c.start : c.end] == c.text and len(c.text) <= chunking.MAX_CHARS for c in chunks)
    assert sum(len(c.text) for c in chunks) == len(text) - 1  # all of it but the line break, in pieces


def test_a_placeholder_date_never_anchors_a_question(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    (folder / "forever.txt").write_text(" date 9999-12-31 The archive keeps this note until the end of time.\n")
    (folder / "ancient.txt").write_text(" date 0999-01-01 A placeholder from a broken export.\n")
    (folder / "today.txt").write_text("A note without a date, so its file date counts for nothing.\n")
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    catalog = lib.view().catalog
    assert catalog.newest_date() == dt.date(2021, 12, 31)  # the seeds, not 9999 nor the file date of today
    named = parse_question_dates("What happened on December 30?", today=dt.date(9999, 12, 31))
    assert named is not None and named.since.year <= dt.date.today().year
    assert anchor(dt.date(1700, 1, 1)) == dt.date.today() and anchor(dt.date(2021, 12, 31)) == dt.date(2021, 12, 31)
    answer = lib.ask("What did Biden and Putin discuss on December 30?")
    assert "2021-12-30" in answer.date_note
    lib.close()


def test_a_refused_upload_is_removed_from_the_folder(tmp_path: Path) -> None:
    from qa.serve.handlers import Handlers

    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)
    binary = tmp_path / "upload" / "report.txt"
    binary.parent.mkdir()
    binary.write_bytes(bytes(range(256)) * 16)
    status, _ = Handlers(lib, folder).upload([str(binary)], progress=lambda *a, **k: None)
    assert "Not added: report.txt: binary file" in status
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in SEEDS.iterdir())
    lib.close()
