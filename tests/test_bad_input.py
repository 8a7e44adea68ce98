"""Nothing let in, nothing lost: every odd file is indexed or skipped with its reason; every odd
question gets an answer or a one-line message, never a traceback."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import qa.ingest.sync
from qa import Library
from qa.cli import main
from qa.errors import BadArgument, BadDate, BadQuestion, IndexMissing, IndexUnwritable, QAError
from qa.index.catalog import FileState
from qa.ingest.sync import plan
from qa.types import Answer, SyncReport

from .conftest import BIDEN, PESKOV, SEEDS, make_pdf

Make = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One odd file: how to make it, then either the question that finds it or why it is skipped."""

    name: str  # its path as the index reports it
    make: Make
    question: str = ""  # indexed: a keyword question whose top hit must be this file
    skipped: str = ""  # skipped: words the reason must hold


def data(name: str, payload: bytes) -> Make:
    def make(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)

    return make


def symlink(name: str, target: str) -> Make:
    return lambda folder: (folder / name).symlink_to(target)


def big_text(folder: Path) -> None:
    """50 MB of plain English text, written in 86 kB blocks."""
    line = b"The archive holds a very long ledger of harbour traffic, one sentence after another.\n"
    with open(folder / "ledger-50mb.txt", "wb") as f:
        for _ in range(50 * 2**20 // (len(line) * 1024) + 1):
            f.write(line * 1024)


def fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.txt")  # reading it would block forever


def folder_named_like_a_file(folder: Path) -> None:
    (folder / "volume.txt").mkdir()
    (folder / "volume.txt" / "inner.md").write_text("The beekeeper moved forty hives to the heather moor.")


def dir_loop(folder: Path) -> None:
    (folder / "loop").mkdir()
    (folder / "loop" / "inside.txt").write_text("The clockmaker oiled the tower clock every Sunday.")
    (folder / "loop" / "back").symlink_to("..", target_is_directory=True)


def bad_name(folder: Path) -> None:
    with open(os.path.join(os.fsencode(folder), b"caf\xe9-menu.txt"), "wb") as f:  # Latin-1 bytes in the name
        f.write(b"Soup of the day: leek and potato.")


SENTENCE = "The glassblower in Murano shaped a blue vase for the cathedral."
PDF = make_pdf(["The cartographer drew the coastline of Iceland.", "A second page about lava fields."])
CASES = [
    Case("empty.txt", data("empty.txt", b""), skipped="empty file"),
    Case("blank.md", data("blank.md", b" \n\t\n  \r\n"), skipped="empty file"),
    Case("binary.txt", data("binary.txt", bytes(range(256)) * 64), skipped="binary file"),
    Case("latin1.txt", data("latin1.txt", "Le boulanger de Besançon a vendu trois gâteaux à Noël.".encode("latin-1")),
         question="boulanger Besançon gâteaux"),
    Case("utf16.txt", data("utf16.txt", "The ferryman of Zürich counted eleven swans.".encode("utf-16")),
         question="ferryman Zürich swans"),
    Case("utf16-no-bom.txt", data("utf16-no-bom.txt", "The shepherd of Ávila sheared ninety sheep.".encode("utf-16-le")),
         question="shepherd Ávila sheared"),
    Case("crlf.txt", data("crlf.txt", b"The miller ground oats.\r\nThe weaver wove linen.\r\n"), question="weaver linen"),
    Case("cr-only.md", data("cr-only.md", b"# Old Mac notes\rThe potter fired forty bowls.\r"), question="potter bowls"),
    Case("ledger-50mb.txt", big_text, skipped="limit"),
    Case("scanned.pdf", data("scanned.pdf", make_pdf([""])), skipped="no text layer"),
    Case("malformed.pdf", data("malformed.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer junk"), skipped="unreadable"),
    Case("truncated.pdf", data("truncated.pdf", PDF[: len(PDF) // 2]), skipped="unreadable PDF"),
    Case("atlas.pdf", data("atlas.pdf", PDF), question="cartographer coastline Iceland"),
    Case("malformed.html", data("malformed.html", b"<html><body><p>The <b>falconer <div>trained a young</p> merlin</span>"
                                                  b" &bogus; near Dunkeld<td></table"), question="falconer merlin Dunkeld"),
    Case("script-only.html", data("script-only.html", b"<script>alert('x')</script><style>p{}</style>"), skipped="empty file"),
    Case("loop-a.txt", symlink("loop-a.txt", "loop-b.txt"), skipped="symlink loop"),
    Case("loop-b.txt", symlink("loop-b.txt", "loop-a.txt"), skipped="symlink loop"),
    Case("loop/inside.txt", dir_loop, question="clockmaker tower clock"),
    Case("dangling.txt", symlink("dangling.txt", "no-such-target.txt"), skipped="broken symlink"),
    Case("pipe.txt", fifo, skipped="not a regular file"),
    Case("volume.txt/inner.md", folder_named_like_a_file, question="beekeeper hives heather"),
    Case("vanishes-after-scan.txt", data("vanishes-after-scan.txt", b"The tailor hemmed six coats."), skipped="cannot read"),
    Case("vanishes-while-loading.txt", data("vanishes-while-loading.txt", b"The cooper made a cask."), skipped="cannot read"),
    Case("my notes/rapport d'été 2021.txt", data("my notes/rapport d'été 2021.txt", SENTENCE.encode()),
         question="glassblower Murano vase"),
    Case("日本語/東京の天気.md", data("日本語/東京の天気.md", "東京は晴れ。The tea master in Tokyo poured matcha.".encode()),
         question="tea master Tokyo matcha"),
    Case("caf\ufffd-menu.txt", bad_name, skipped="not valid UTF-8"),
    Case("north/report.txt", data("north/report.txt", b"The lighthouse keeper counted forty gulls."),
         question="lighthouse keeper gulls"),
    Case("south/report.txt", data("south/report.txt", b"The fishmonger sold ninety herrings at dawn."),
         question="fishmonger herrings"),
    Case(BIDEN, lambda f: shutil.copy(Path(__file__).parent.parent / "seeds" / BIDEN, f / BIDEN),
         question="Biden Putin serious costs consequences"),
]  # fmt: skip


def vanishing(real: Callable[..., object], when: str, name: str) -> Callable[..., object]:
    """`real` (scan or load_document), deleting the file `name` right before (load) or after (scan) it runs."""

    def wrapper(path: Path, *args: object) -> object:
        target = (path if when == "scan" else args[0]) / name  # type: ignore[operator]
        if when == "load" and path.name == name:
            target.unlink()
        out = real(path, *args)
        if when == "scan":
            target.unlink()
        return out

    return wrapper


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, SyncReport]]:
    folder = tmp_path_factory.mktemp("odd")
    for case in CASES:
        case.make(folder)
    lib = Library.open(tmp_path_factory.mktemp("index"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qa.ingest.sync, "scan", vanishing(qa.ingest.sync.scan, "scan", "vanishes-after-scan.txt"))
        mp.setattr(qa.ingest.sync, "load_document", vanishing(qa.ingest.sync.load_document, "load", "vanishes-while-loading.txt"))
        report = lib.sync(folder)
    (folder / "ledger-50mb.txt").unlink()
    yield lib, report
    lib.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_odd_file_is_indexed_or_skipped_with_its_reason(odd_folder: tuple[Library, SyncReport], case: Case) -> None:
    lib, report = odd_folder
    skipped = {s.path: s.reason for s in report.skipped}
    if case.skipped:
        assert case.name in skipped, f"{case.name} was neither indexed nor reported: {skipped}"
        assert case.skipped in skipped[case.name] and "—" in skipped[case.name]  # what happened — what to do
        assert lib.document(case.name) is None
    else:
        assert case.name not in skipped, skipped.get(case.name)
        doc = lib.document(case.name)
        assert doc is not None
        hit = lib.retrieve(case.question, k=1, mode="keyword")[0]
        assert hit.source == case.name
        assert doc.text[hit.start : hit.end] == hit.text


def test_nothing_else_is_lost(odd_folder: tuple[Library, SyncReport]) -> None:
    lib, report = odd_folder
    indexed = {c.name for c in CASES if not c.skipped}
    assert {d.path for d in lib.documents()} == indexed
    assert {s.path for s in report.skipped} == {c.name for c in CASES if c.skipped}
    assert report.added == len(indexed)
    assert lib.retrieve("What did Biden warn Putin of if Russia invaded Ukraine?", k=1)[0].source == BIDEN


def plan_as(uid: int, folder: Path, known: dict[str, FileState] | None = None) -> tuple[list[str], dict[str, str], list[int]]:
    """Run the scan-and-load step in a forked child that dropped root (root reads any file)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read_end)
            os.setgid(uid)
            os.setuid(uid)
            work = plan(folder, known or {})
            out = ([d.path for d, _ in work.new], {s.path: s.reason for s in work.skipped}, work.removed)
            os.write(write_end, pickle.dumps(out))
        except BaseException as exc:
            os.write(write_end, pickle.dumps(exc))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        payload = f.read()
    os.waitpid(pid, 0)
    result = pickle.loads(payload)
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_file_and_folder_are_skipped_with_reason() -> None:
    nobody = 65534
    folder = Path(tempfile.mkdtemp(prefix="qa-perm-"))
    try:
        folder.chmod(0o755)
        (folder / "open.txt").write_text("The gardener planted tulips.")
        (folder / "secret.txt").write_text("Only root may read this.")
        (folder / "secret.txt").chmod(0o000)
        (folder / "private").mkdir(mode=0o700)
        (folder / "private" / "diary.txt").write_text("Hidden away.")
        for path in (folder / "open.txt", folder / "private" / "diary.txt"):
            path.chmod(0o644)
        new, skipped, _ = plan_as(nobody, folder)
        assert new == ["open.txt"]
        assert "Permission denied" in skipped["secret.txt"] and "readable" in skipped["secret.txt"]
        assert "Permission denied" in skipped["private"]
        # Indexed while readable, unreadable now: reported, and its last good version is kept.
        (folder / "secret.txt").chmod(0o644)
        (folder / "private").chmod(0o755)
        lib = Library.open(folder.with_name(folder.name + "-index"))
        assert lib.sync(folder).added == 3
        (folder / "secret.txt").write_text("Only root may read this, now longer.")  # changed, so read again
        (folder / "secret.txt").chmod(0o000)
        (folder / "private").chmod(0o700)
        new, skipped, removed = plan_as(nobody, folder, lib.view().catalog.files())
        assert new == [] and removed == [] and set(skipped) == {"secret.txt", "private"}
        lib.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(folder.with_name(folder.name + "-index"), ignore_errors=True)


# -- questions ------------------------------------------------------------------------------------

LONG = "What did Biden warn Putin of if Russia invaded Ukraine? " + "and also the weather in spring " * 3400
QUESTIONS: list[tuple[str, dict[str, str], type[QAError] | None, str]] = [
    ("", {}, BadQuestion, "question is empty"),
    ("  \t \n ", {}, BadQuestion, "question is empty"),
    ("\x00\x01\x1b\x7f", {}, BadQuestion, "question is empty"),
    (LONG, {}, None, BIDEN),
    ("Who\x00 requested\x07 the\x1b[2J call?\x7f", {}, None, ""),
    ("the of and to in is was it", {}, None, ""),
    ("Что сказал Песков о переговорах?", {}, None, ""),
    ("拜登和普京什么时候通电话？", {}, None, ""),
    ("What happened on the 32nd of Smarch 20211?", {}, None, ""),
    ('NEAR(Biden Putin) AND "call* OR ^NOT -- ; DROP TABLE chunks', {}, None, ""),
    ("\ud800 Biden \udfff Putin", {}, None, ""),
    ("Who requested the call?", {"since": "someday"}, BadDate, "someday"),
    ("Who requested the call?", {"until": "2021-02-30"}, BadDate, "2021-02-30"),
    ("Who requested the call?", {"since": "31/12/2021"}, BadDate, "YYYY-MM-DD"),
    ("Who requested the call?", {"mode": "psychic"}, BadQuestion, "psychic"),
]
IDS = ["empty", "whitespace", "only-control", "100k-chars", "control-chars", "stop-words", "russian", "chinese",
       "impossible-date-words", "fts-operators", "lone-surrogates", "since-words", "until-feb-30", "since-dmy",
       "bad-mode"]  # fmt: skip


@pytest.mark.parametrize(("question", "options", "error", "expect"), QUESTIONS, ids=IDS)
def test_question_gets_an_answer_or_a_clear_error(
    seed_library: Library, question: str, options: dict[str, str], error: type[QAError] | None, expect: str
) -> None:
    if error is not None:
        for call in (seed_library.retrieve, seed_library.ask):
            with pytest.raises(error, match=expect):
                call(question, **options)  # type: ignore[operator]
        return
    for mode in ("hybrid", "keyword", "dense"):
        hits = seed_library.retrieve(question, k=3, mode=mode, **options)
        assert all(h.source in (BIDEN, PESKOV) for h in hits)
        assert hits or mode == "keyword"
        if expect and mode == "keyword":  # past the first 2,000 characters nothing is read: noise wins in dense
            assert hits[0].source == expect
    answer = seed_library.ask(question, k=3, **options)
    assert isinstance(answer, Answer) and answer.text


@pytest.mark.parametrize(("question", "options", "error", "expect"), QUESTIONS, ids=IDS)
def test_question_through_the_cli(
    seed_library: Library,
    capsys: pytest.CaptureFixture[str],
    question: str,
    options: dict[str, str],
    error: type[QAError] | None,
    expect: str,
) -> None:
    flags = [f"--{k}={v}" for k, v in options.items() if k != "mode"]
    if "mode" in options:  # argparse refuses it before qa sees it: exit 2 with its usage line
        with pytest.raises(SystemExit) as info:
            main(["ask", question, "--mode", options["mode"]])
        assert info.value.code == 2
        return
    code = main(["ask", question, "--index", str(seed_library.store.root), "--k", "2", *flags])
    out, err = capsys.readouterr()
    if error is not None:
        assert code == 2 and err.startswith("qa: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    else:
        assert code == 0 and out.strip() and not err, err


def test_odd_question_in_a_real_process(seed_library: Library) -> None:
    """The 100,000-character question with control characters, through argv and a real `qa ask`."""
    question = "Who\x07 requested\x1b[2J the call?\x7f " + LONG[:99_000]
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", question, "--index", str(seed_library.store.root), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert '"hits"' in result.stdout


# -- the Python API: arguments refused by name, never a TypeError; no silent wrong result -------


@pytest.mark.parametrize("k", [None, "3", 2.5, float("inf"), 0, 1001, True], ids=repr)
def test_k_that_is_not_a_whole_number_in_range_is_refused_by_name(seed_library: Library, k: object) -> None:
    for call in (seed_library.retrieve, seed_library.ask):
        with pytest.raises(BadArgument, match=r"k=.* — pass an int from 1 to 1000"):
            call("Who requested the call?", k=k)  # type: ignore[operator]


def test_library_open_on_a_file_and_sync_of_none_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an index")
    with pytest.raises(IndexMissing, match="is a file, not an index folder"):
        Library.open(tmp_path / "notes.txt")
    for folder in (None, 42):
        with pytest.raises(BadArgument, match="sync needs the folder holding your documents"):
            Library.open(tmp_path / "index").sync(folder)  # type: ignore[arg-type]


def test_since_and_until_as_datetimes_keep_their_whole_day(seed_library: Library) -> None:
    """A datetime in the afternoon of the 30th still means the 30th (it used to drop that day)."""
    day = dt.date(2021, 12, 30)
    afternoon, morning = dt.datetime(2021, 12, 30, 15, 0), dt.datetime(2021, 12, 30, 9, 0)
    hits = seed_library.retrieve("Biden and Putin call", k=3, since=afternoon, until=morning)
    assert hits and all(h.date == day for h in hits), [h.date for h in hits]
    assert hits == seed_library.retrieve("Biden and Putin call", k=3, since=day, until=day)
    assert day in {h.date for h in seed_library.retrieve("Biden and Putin call", k=5, since=afternoon)}


def test_a_bytes_question_is_read_as_utf8_text(seed_library: Library) -> None:
    text = "What did Biden warn Putin of if Russia invaded Ukraine?"
    assert seed_library.ask(text.encode()).question == text
    assert seed_library.retrieve(text.encode(), k=3) == seed_library.retrieve(text, k=3)
    with pytest.raises(BadQuestion, match="not UTF-8 — pass it as text"):
        seed_library.ask("Besançon".encode("latin-1"))
    with pytest.raises(BadQuestion, match="must be text"):
        seed_library.ask(42)  # type: ignore[arg-type]


# -- the command line: one line naming the fix, never a traceback --------------------------------


def run_qa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, timeout=300)


def one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    err = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, seed_library: Library) -> Path:
    """A copy of the seeds' index, to damage copies of."""
    index = tmp_path_factory.mktemp("built") / "index"
    shutil.copytree(seed_library.store.root, index)
    return index


def damaged_copy(built: Path, tmp_path: Path, damage: Callable[[Path], object]) -> Path:
    index = tmp_path / "index"
    shutil.copytree(built, index)
    damage(index)
    return index


def replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


CLI_CASES: list[tuple[str, Callable[[Path], object], list[str], list[str]]] = [
    ("manifest of random bytes", lambda i: (i / "manifest.json").write_bytes(os.urandom(300)),
     ["ask", "Who requested the call?"], ["damaged manifest", "delete", "qa index"]),
    ("manifest is a folder", lambda i: replace_with_folder(i / "manifest.json"),
     ["ask", "Who requested the call?"], ["manifest.json: cannot read (Is a directory)", "remove the folder", "qa index"]),
    ("manifest is a folder, index", lambda i: replace_with_folder(i / "manifest.json"),
     ["index", str(SEEDS)], ["manifest.json: cannot read (Is a directory)", "qa index"]),
    ("lock is a folder", lambda i: replace_with_folder(i / "lock"),
     ["index", str(SEEDS)], ["lock: cannot write (Is a directory)", "move it"]),
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "damage", "command", "words"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_a_damaged_index_folder_is_one_line(
    built: Path, tmp_path: Path, name: str, damage: Callable[[Path], object], command: list[str], words: list[str]
) -> None:
    index = damaged_copy(built, tmp_path, damage)
    one_line(run_qa(*command, "--index", str(index)), *words)


@pytest.mark.e2e
def test_index_pointing_at_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("hello")
    for command in (["ask", "Who requested the call?"], ["index", str(SEEDS)], ["check", "a claim"]):
        one_line(run_qa(*command, "--index", str(tmp_path / "afile")), "is a file, not an index folder")


@pytest.mark.e2e
def test_a_port_out_of_range_or_in_use_is_one_line(tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    one_line(run_qa("chat", str(SEEDS), "--index", index, "--port", "99999"), "--port 99999 is not a port", "1 to 65535")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        one_line(run_qa("chat", str(SEEDS), "--index", index, "--port", str(port)), f"port {port} is in use", "--port")
    assert not (tmp_path / "index").exists()  # refused before any sync


@contextlib.contextmanager
def mounted(where: Path, *options: str) -> Iterator[Path]:
    """A real mount (tmpfs, or a bind mount), unmounted afterwards. Tests run as root here and in CI."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *options, str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine does not let the tests mount a file system: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.e2e
def test_a_read_only_index_folder_answers_and_refuses_writes_in_one_line(built: Path, tmp_path: Path, seeds_copy: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(built, source)
    with mounted(tmp_path / "ro", "--bind", str(source)) as ro:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        answered = run_qa("ask", "Who requested the call?", "--index", str(ro))
        assert answered.returncode == 0 and "Traceback" not in answered.stderr, answered.stderr
        (seeds_copy / "new.txt").write_text("The bakery owner sold ninety croissants before noon.")
        one_line(run_qa("index", str(seeds_copy), "--index", str(ro)), "Read-only file system", "--index")
        with pytest.raises(IndexUnwritable, match="Read-only file system"):
            Library.open(ro).sync(seeds_copy)
