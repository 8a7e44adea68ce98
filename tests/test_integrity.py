"""Nothing lost: `qa index` killed at any moment, readers beside a writer, two writers, damaged files."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa import Library, config
from qa.errors import IndexCorrupt, IndexLocked, IndexUnwritable
from qa.index.slots import sentence_spans, vector_ids
from qa.index.store import Store
from qa.library import View
from qa.types import Hit

from .conftest import BIDEN, TIE_BF16, TIE_FP32, assert_same_ranking, place, vectors_match_catalog

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

SUBJECTS = ["The harbour master", "A local farmer", "The city council", "Our librarian", "The ferry captain",
            "A retired teacher", "The mayor of Tromsø", "The bakery owner", "A young engineer", "The museum curator",
            "The fishing cooperative", "A hospital nurse"]  # fmt: skip
VERBS = ["counted", "repaired", "ordered", "painted", "measured", "donated", "sold", "inspected", "photographed", "catalogued"]
OBJECTS = ["wooden boats", "apple trees", "street lamps", "old maps", "copper kettles", "bicycles", "weather balloons",
           "glass jars", "oak barrels", "stone bridges", "radio masts", "wool blankets"]  # fmt: skip
PLACES = ["near the northern pier", "in the market square", "behind the old mill", "along the river bank",
          "at the railway depot", "on the hill above town", "inside the town hall", "by the lighthouse"]  # fmt: skip
QUESTIONS = [
    "How many wooden boats did the harbour master count?",
    "Who painted street lamps near the northern pier?",
    "What did the museum curator catalogue behind the old mill?",
    "copper kettles by the lighthouse",
    "Which radio masts did the young engineer inspect at the railway depot?",
]
BATCH = 16  # encoder batch of the killed runs: many small commits to the vector cache
# `qa index` exactly as the CLI runs it, with a smaller encoder batch so a kill lands between batches.
RUNNER = (
    "import sys, qa.ingest.sync; qa.ingest.sync.ENCODE_BATCH = int(sys.argv[1]); "
    "from qa.cli import main; sys.exit(main(sys.argv[2:]))"
)
PROGRESS = re.compile(r"(chunk|encode):\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")


def write_files(folder: Path, n: int, seed: int, prefix: str = "doc") -> list[Path]:
    """`n` short generated news-like files, each a few distinct sentences (one passage each)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        sentences = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.randint(2, 999)} {rng.choice(OBJECTS)} "
            f"{rng.choice(PLACES)} on day {rng.randint(1, 365)}."
            for _ in range(rng.randint(3, 6))
        ]
        path = folder / f"{prefix}-{seed}-{i:04d}.txt"
        path.write_text(" ".join(sentences) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def results(index: Path) -> dict[tuple[str, str], list[Hit]]:
    """What a reader sees: every hit of every question, in both hybrid and keyword mode."""
    lib = Library.open(index)
    try:
        view = lib.view()
        assert view.catalog.counts()[1] == view.manifest["chunks"]
        assert vectors_match_catalog(view)
        return {(mode, q): lib.retrieve(q, k=5, mode=mode) for mode in ("hybrid", "keyword") for q in QUESTIONS}
    finally:
        lib.close()


def assert_same_results(index: Path, expected: dict[tuple[str, str], list[Hit]], tie: float) -> None:
    """The index answers as `expected` (another build of the same files) does, up to batch rounding."""
    got = results(index)
    for key, hits in expected.items():
        assert_same_ranking(hits, got[key], tie=tie)


def generation(index: Path) -> str:
    return str(json.loads((index / "manifest.json").read_text())["generation"])


class Run:
    """One `qa index` subprocess whose stderr progress is watched from a thread."""

    def __init__(self, folder: Path, index: Path, batch: int = BATCH):
        cmd = [sys.executable, "-c", RUNNER, str(batch), "index", str(folder), "--index", str(index)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while block := os.read(self.proc.stderr.fileno(), 65536):
            self.err += block

    def progress(self, stage: str) -> tuple[int, int] | None:
        found = [m for m in PROGRESS.finditer(self.err.decode(errors="replace")) if m.group(1) == stage]
        return (int(found[-1].group(2)), int(found[-1].group(3))) if found else None

    def wait_for(self, condition: Callable[[], bool], timeout: float = 240) -> bool:
        """Poll `condition` every 5 ms; False when the run ended (or time ran out) first."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            if condition():
                return True
            time.sleep(0.005)
        return False

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self) -> tuple[int, str, str]:
        out = self.proc.stdout.read().decode() if self.proc.stdout else ""
        code = self.proc.wait(timeout=300)
        self.reader.join(timeout=10)
        return code, out, self.err.decode(errors="replace")


def new_gen_written(index: Path, before: str) -> Callable[[], bool]:
    """True once the run has written the vectors of its next generation: publish is moments away."""
    number = int(before.split("-")[1]) + 1
    return lambda: (index / f"gen-{number:06d}" / "vectors.faiss").exists()


def reach(moment: str, run: Run, index: Path, gen: str, rng: random.Random) -> bool:
    """Wait until the run is at `moment`; True when it got there before ending."""
    if moment == "chunking":
        return run.wait_for(lambda: (p := run.progress("chunk")) is not None and p[0] < p[1])
    if moment == "encoding":
        return run.wait_for(lambda: (p := run.progress("encode")) is not None and 3 * BATCH <= p[0] < p[1])
    if moment == "publishing":
        return run.wait_for(new_gen_written(index, gen))
    # Random: a delay counted from the first progress line, so that process start-up (seconds on a
    # busy machine) does not swallow it; a run that ends before the delay is not a failure.
    run.wait_for(lambda: bool(run.err))
    return not run.wait_for(lambda: False, timeout=rng.uniform(0, 6))


def test_sigkill_at_any_moment_leaves_the_last_good_index(tmp_path: Path) -> None:
    # The killed runs batch their passages otherwise than the fresh build; a passage's vectors do
    # not depend on its batch (embeddings/encoder.py), so only a real difference can move a ranking.
    folder, index = tmp_path / "docs", tmp_path / "index"
    base = write_files(folder, 100, seed=1)
    Library.open(index).sync(folder)
    # The run to be killed: 200 new files, 10 changed, 10 removed.
    write_files(folder, 200, seed=2)
    for path in base[:10]:
        path.write_text(path.read_text() + "The harbour master added a late note about ten copper kettles.\n")
    for path in base[10:20]:
        path.unlink()
    fresh = tmp_path / "fresh"
    Library.open(fresh).sync(folder)
    expected_final = results(fresh)

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    moments = ["chunking", "encoding", "publishing", "random", "random"]  # each costs a process start
    encoded_before_kill = 0
    encode_total = 0
    before = results(index)
    log: list[str] = []
    for name in moments:
        gen = generation(index)
        run = Run(folder, index)
        hit_moment = reach(name, run, index, gen, rng)
        if name == "encoding" and hit_moment:
            encoded_before_kill, encode_total = run.progress("encode") or (0, 0)
        run.kill()
        log.append(f"{name}: killed at {run.progress('chunk')} chunked, {run.progress('encode')} encoded")
        if name in ("chunking", "encoding"):
            assert hit_moment, f"the run never reached {name}: {run.err[-2000:]!r}"
        if generation(index) == gen:
            assert results(index) == before, f"killed while {name} (random seed {seed}): the index changed"
        else:  # the kill came after the switch: the new index must then be complete
            assert name not in ("chunking", "encoding")
            assert_same_results(index, expected_final, TIE_FP32)  # killed after the switch: complete
            before = results(index)

    code, out, err = Run(folder, index).finish()
    assert code == 0, err
    encoded = int(re.search(r"(\d+) passages encoded", out).group(1))  # type: ignore[union-attr]
    print("\n".join([*log, out]))  # shown with pytest -s: the figures in docs/benchmarks/integrity.md
    assert encode_total > 0 and encoded <= encode_total - encoded_before_kill, out
    assert_same_results(index, expected_final, TIE_FP32)
    gens = sorted(p.name for p in index.glob("gen-*"))
    assert len(gens) <= 2 and generation(index) in gens
    assert not list(index.glob("*.tmp"))


def test_reader_always_sees_a_complete_generation(tmp_path: Path) -> None:
    """Readers in threads ask again and again while another process publishes new generations."""
    folder, index = tmp_path / "docs", tmp_path / "index"
    write_files(folder, 40, seed=3)
    Library.open(index).sync(folder)
    waves = 8
    writer = (
        "import sys, pathlib, time; from qa import Library; folder = pathlib.Path(sys.argv[1]); lib = Library.open(sys.argv[2])\n"
        "for k in range(1, int(sys.argv[3]) + 1):\n"
        "    (folder / f'wave-{k:02d}.txt').write_text(f'Wave {k}: the lighthouse keeper saw {k * 7} swans on day {k}.')\n"
        "    lib.sync(folder)\n"
        # On an idle machine 8 small syncs take about a second: pause so readers see several generations.
        "    time.sleep(0.4)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", writer, str(folder), str(index), str(waves)], stderr=subprocess.PIPE)
    errors: list[BaseException] = []
    seen: dict[str, set[tuple[str, ...]]] = {}

    def read(mode: str) -> None:
        lib = Library.open(index)
        try:
            while proc.poll() is None:
                gen = lib.view().generation
                hits = lib.retrieve("How many swans did the lighthouse keeper see?", k=20, mode=mode)
                if lib.view().generation != gen:
                    continue  # published meanwhile: these hits may come from either generation
                sources = {h.source for h in hits} | {d.source for h in hits for d in h.duplicates}
                seen.setdefault(gen, set()).add(tuple(sorted(s for s in sources if s.startswith("wave-"))))
                time.sleep(0.002)  # leave the writer some of the 2 cores
        except BaseException as exc:  # any error at all fails the test
            errors.append(exc)
        finally:
            lib.close()

    readers = [threading.Thread(target=read, args=(mode,)) for mode in ("keyword", "keyword", "hybrid")]
    for t in readers:
        t.start()
    for t in readers:
        t.join(timeout=300)
    assert proc.wait(timeout=60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert not errors, errors
    assert len(seen) >= 3  # the readers did see the index change under them
    for gen, answers in seen.items():
        waves_in_gen = int(gen.split("-")[1]) - 1  # gen-000001 is the first build, each wave one more
        complete = tuple(f"wave-{k:02d}.txt" for k in range(1, waves_in_gen + 1))
        assert answers <= {complete}, f"{gen}: {answers}"


def test_reader_recovers_when_its_generation_vanishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader reads the manifest, then two publishes delete that generation before it opens it."""
    folder, index = tmp_path / "docs", tmp_path / "index"
    write_files(folder, 5, seed=4)
    Library.open(index).sync(folder)
    reader = Library.open(index)
    stale = reader.store.manifest()
    writer = Library.open(index)
    for k in (1, 2):
        (folder / f"extra-{k}.txt").write_text(f"The ferry captain sold {k} oak barrels by the lighthouse.")
        writer.sync(folder)
    assert not (index / str(stale["generation"])).exists()
    calls = iter([stale])
    real = reader.store.require
    monkeypatch.setattr(reader.store, "require", lambda: next(calls, None) or real())
    hits = reader.retrieve("oak barrels by the lighthouse", k=10, mode="keyword")
    assert {"extra-1.txt", "extra-2.txt"} <= {h.source for h in hits}
    assert reader.view().generation == generation(index)


def test_second_writer_fails_with_a_clear_message(seeds_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    Library.open(index).sync(seeds_copy)
    before = fingerprint_seeds(index)
    (seeds_copy / "new.txt").write_text("The bakery owner sold ninety croissants before noon.")
    with Store(index).lock():
        with pytest.raises(IndexLocked, match="another qa index is writing"):
            Library.open(index).sync(seeds_copy)
        result = subprocess.run(
            [sys.executable, "-m", "qa.cli", "index", str(seeds_copy), "--index", str(index)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "another qa index is writing" in result.stderr and "Traceback" not in result.stderr
    assert fingerprint_seeds(index) == before
    assert Library.open(index).sync(seeds_copy).added == 1  # the lock is free again


def fingerprint_seeds(index: Path) -> list[tuple[str, int, int]]:
    lib = Library.open(index)
    try:
        return [(h.source, h.start, h.end) for h in lib.retrieve("Who requested the call?", k=5, mode="keyword")]
    finally:
        lib.close()


# -- damaged files ------------------------------------------------------------------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def scramble(path: Path) -> None:
    """Overwrite bytes in the middle, keeping the size: only a checksum can tell."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes((b + 1) % 256 for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def drop_checksums(index: Path) -> None:
    """An index written before the manifest carried checksums."""
    manifest = json.loads((index / "manifest.json").read_text())
    manifest.pop("files", None)
    (index / "manifest.json").write_text(json.dumps(manifest))


def edit_manifest(index: Path, **changes: object) -> None:
    manifest = json.loads((index / "manifest.json").read_text())
    (index / "manifest.json").write_text(json.dumps({**manifest, **changes}))


def old(index: Path, damage: Callable[[], object]) -> None:
    drop_checksums(index)
    damage()


def gen_file(name: str) -> Callable[[Path], Path]:
    return lambda index: index / generation(index) / name


def damage_term_counts(index: Path) -> None:
    """A passage's stored term counts cut to a length no (term id, count) pair list has."""
    db = sqlite3.connect(gen_file("catalog.sqlite")(index))
    db.execute("UPDATE chunks SET bag = x'0102' WHERE id = (SELECT min(id) FROM chunks)")
    db.commit()
    db.close()


DAMAGE: list[tuple[str, Callable[[Path], None], str]] = [
    ("manifest truncated", lambda i: truncate(i / "manifest.json"), "damaged manifest"),
    ("manifest empty", lambda i: (i / "manifest.json").write_bytes(b""), "damaged manifest"),
    ("manifest not an object", lambda i: (i / "manifest.json").write_text("[1, 2]"), "damaged manifest"),
    ("manifest names no generation", lambda i: edit_manifest(i, generation="../../etc"), "damaged manifest"),
    ("catalog truncated", lambda i: truncate(gen_file("catalog.sqlite")(i)), "truncated"),
    ("catalog scrambled", lambda i: scramble(gen_file("catalog.sqlite")(i)), "damaged"),
    ("vectors truncated", lambda i: truncate(gen_file("vectors.faiss")(i)), "truncated"),
    ("vectors scrambled", lambda i: scramble(gen_file("vectors.faiss")(i)), "damaged"),
    ("vectors deleted", lambda i: gen_file("vectors.faiss")(i).unlink(), "missing"),
    ("generation deleted", lambda i: shutil.rmtree(i / generation(i)), "missing"),
    ("old manifest, vectors truncated", lambda i: old(i, lambda: truncate(gen_file("vectors.faiss")(i))), "FAISS"),
    ("old manifest, catalog truncated", lambda i: old(i, lambda: truncate(gen_file("catalog.sqlite")(i))), "catalog"),
    ("old manifest, catalog emptied", lambda i: old(i, lambda: gen_file("catalog.sqlite")(i).write_bytes(b"")), "catalog"),
    ("old manifest, term counts damaged", lambda i: old(i, lambda: damage_term_counts(i)), "term counts"),
]  # fmt: skip


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("docs")
    write_files(folder, 30, seed=5)
    shutil.copy(Path(__file__).parent.parent / "seeds" / BIDEN, folder / BIDEN)
    index = tmp_path_factory.mktemp("built") / "index"
    Library.open(index).sync(folder)
    return folder, index


@pytest.mark.parametrize(("name", "damage", "message"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_index_is_a_clear_error(
    built_index: tuple[Path, Path], tmp_path: Path, name: str, damage: Callable[[Path], None], message: str
) -> None:
    index = tmp_path / "index"
    shutil.copytree(built_index[1], index)
    damage(index)
    for mode in ("keyword", "hybrid"):
        with pytest.raises(IndexCorrupt, match=message) as info:
            Library.open(index).retrieve("What did Biden warn Putin of?", k=3, mode=mode)
        assert "qa index" in str(info.value)
    # Through the CLI: one line, exit 2, never a crash (a segfault would be exit -11).
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "What did Biden warn Putin of?", "--mode", "keyword", "--index", str(index)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "qa index" in result.stderr, result.stderr
    # The hint works, and costs no encoding: delete the manifest, sync, answer.
    if name in ("catalog truncated", "vectors scrambled"):
        hint = re.search(r"delete (\S+) and run: qa index (\S+)", str(info.value))
        assert hint and hint.group(2) == str(built_index[0]), str(info.value)
        Path(hint.group(1)).unlink()
        report = Library.open(index).sync(hint.group(2))
        assert report.chunks_encoded == 0 and report.chunks_reused > 0
        assert_same_results(index, results(built_index[1]), TIE_FP32)


@pytest.mark.parametrize("damage", [truncate, scramble, lambda p: p.write_bytes(b"not a database at all" * 100)])
def test_damaged_vector_cache_never_blocks_a_sync(
    built_index: tuple[Path, Path], tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(built_index[0], folder)
    shutil.copytree(built_index[1], index)
    damage(index / "vector-cache.sqlite")
    (folder / BIDEN).write_text((folder / BIDEN).read_text() + "\nA closing line about glass jars.\n")
    write_files(folder, 3, seed=6, prefix="late")
    report = Library.open(index).sync(folder)
    assert (report.added, report.changed) == (3, 1)
    assert report.chunks_encoded > 0
    lib = Library.open(index)
    assert lib.retrieve("What did Biden warn Putin of?", k=1)[0].source == BIDEN
    fresh = tmp_path / "fresh"
    Library.open(fresh).sync(folder)
    assert_same_results(index, results(fresh), TIE_BF16)


# -- new generations are made of verified data only; names are never reused ----------------------


def overwrite_part(path: Path, share: float, seed: int) -> None:
    """Overwrite `share` of the file in place with random bytes (the size stays)."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = rng.randrange(len(data) // 8, len(data) // 4)
    data[start : start + int(len(data) * share)] = rng.randbytes(int(len(data) * share))
    path.write_bytes(bytes(data[: len(path.read_bytes())]))


@pytest.mark.parametrize("share", [0.1, 0.6])
def test_damaged_vectors_are_never_carried_into_a_new_generation(
    built_index: tuple[Path, Path], tmp_path: Path, share: float
) -> None:
    """With the chat running (a Library that opened the index), vectors.faiss is overwritten in place,
    then a file is uploaded (that Library syncs): the new generation answers as a fresh build does."""
    folder, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(built_index[0], folder)
    shutil.copytree(built_index[1], index)
    chat = Library.open(index)
    chat.warm()
    overwrite_part(index / generation(index) / "vectors.faiss", share, seed=int(share * 10))
    write_files(folder, 1, seed=9, prefix="upload")
    report = chat.sync(folder)
    assert report.chunks_encoded == 1  # rebuilt from the catalog's files and the vector cache: only the new one encoded
    fresh = tmp_path / "fresh"
    Library.open(fresh).sync(folder)
    assert_same_results(index, results(fresh), tie=0.0)
    dense = [[place(h) for h in Library.open(i).retrieve(q, k=10, mode="dense")] for i in (index, fresh) for q in QUESTIONS]
    assert dense[: len(QUESTIONS)] == dense[len(QUESTIONS) :]


def test_a_rebuild_never_reuses_a_generation_name_and_the_chat_notices(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(built_index[0], folder)
    shutil.copytree(built_index[1], index)
    chat = Library.open(index)
    first = chat.view().generation
    (index / "manifest.json").unlink()  # the rebuild hint: delete the manifest and run qa index
    code = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(folder), "--index", str(index)], capture_output=True)
    assert code.returncode == 0, code.stderr
    assert generation(index) != first
    assert chat.view().generation == generation(index)  # the chat reads the new generation
    write_files(folder, 1, seed=10, prefix="upload")
    assert chat.sync(folder).added == 1  # an upload works (it failed on UNIQUE constraint failed: documents.path)
    # The whole folder deleted and built again restarts the names; the build id still tells them apart.
    shutil.rmtree(index)
    Library.open(index).sync(folder)
    assert chat.view().manifest["build"] == json.loads((index / "manifest.json").read_text())["build"]


def test_incremental_and_fresh_builds_are_equal(tmp_path: Path) -> None:
    """Files synced in three steps (adds, a change, a removal) and the same files built at once: every
    passage has the same vectors, bit for bit, so every ranking and score is the same."""
    folder = tmp_path / "docs"
    base = write_files(folder, 37, seed=11)
    steps = tmp_path / "steps"
    Library.open(steps).sync(folder)
    write_files(folder, 17, seed=12)
    Library.open(steps).sync(folder)
    base[0].write_text(base[0].read_text() + "The ferry captain sold one oak barrel.\n")
    base[1].unlink()
    Library.open(steps).sync(folder)
    fresh = tmp_path / "fresh"
    Library.open(fresh).sync(folder)
    a, b = Library.open(steps).view(), Library.open(fresh).view()
    assert passage_vectors(a) == passage_vectors(b)
    for mode in config.MODES:
        for q in QUESTIONS:
            got = [(place(h), h.score) for h in Library.open(steps).retrieve(q, k=10, mode=mode)]
            assert got == [(place(h), h.score) for h in Library.open(fresh).retrieve(q, k=10, mode=mode)], (mode, q)


def passage_vectors(view: View) -> dict[tuple[str, int, int], bytes]:
    """Each passage (by file and span) -> its own and its sentences' vectors as stored, as bytes."""
    out = {}
    for chunk_id, source, start, end, text in view.catalog.db.execute(
        "SELECT c.id, d.path, c.start, c.end, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id"
    ):
        ids = vector_ids(chunk_id, 1 + len(sentence_spans(text)))
        out[(source, start, end)] = b"".join(view.vectors.reconstruct(int(i)).tobytes() for i in ids)
    return out


# -- a full disk while encoding, an upload during `qa index` ---------------------------------------


def cache_rows(index: Path) -> int:
    db = sqlite3.connect(index / "vector-cache.sqlite")
    try:
        return int(db.execute("SELECT count(*) FROM vectors16").fetchone()[0])
    finally:
        db.close()


def test_a_full_disk_while_encoding_keeps_the_vector_cache(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    """A real 24 MiB tmpfs holds the index; once the first batch of new passages is in the cache, a
    file fills the rest of the disk: the sync fails in one line, the cache keeps every row, the index
    answers as before, and after space is freed the next sync encodes only what is left."""
    from tests.test_bad_input import mounted

    folder = tmp_path / "docs"
    shutil.copytree(built_index[0], folder)
    with mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=24m", "tmpfs") as disk:
        index = disk / "index"
        shutil.copytree(built_index[1], index)
        before, rows = results(index), cache_rows(index)
        write_files(folder, 80, seed=13, prefix="late")
        filler = disk / "filler"

        def fill_when_encoding(stage: str, done: int, total: int) -> None:
            if stage == "encode" and done > 0 and not filler.exists():  # 0: the stage starting, nothing committed yet
                with open(filler, "wb") as f, contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * (1 << 20))
                        f.flush()
                        os.fsync(f.fileno())

        lib = Library.open(index)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("qa.ingest.sync.ENCODE_BATCH", 8)
            with pytest.raises(IndexUnwritable, match="the disk is full — free some space") as info:
                lib.sync(folder, progress=fill_when_encoding)
        assert "\n" not in str(info.value)
        kept = cache_rows(index)
        assert kept >= rows + 8  # the batch committed before the disk filled is there, and every row before it
        assert results(index) == before and sorted(p.name for p in index.glob("gen-*")) == [generation(index)]
        filler.unlink()
        report = Library.open(index).sync(folder)
        assert report.added == 80 and report.chunks_encoded <= 80 - (kept - rows)


@pytest.mark.e2e
def test_an_upload_during_qa_index_waits_for_it_and_the_same_bytes_are_one_file(tmp_path: Path) -> None:
    from qa.serve.handlers import Handlers

    folder, index = tmp_path / "docs", tmp_path / "index"
    write_files(folder, 5, seed=14)
    Library.open(index).sync(folder)
    write_files(folder, 150, seed=15, prefix="bulk")
    run = Run(folder, index, batch=4)  # the CLI indexing 150 files, slowly
    assert run.wait_for(lambda: run.progress("encode") is not None), run.err[-2000:]
    upload = tmp_path / "incoming" / "minutes.txt"
    upload.parent.mkdir()
    upload.write_text("The harbour master counted 4242 quokkas near the northern pier.\n")
    chat = Handlers(Library.open(index), folder)
    assert run.proc.poll() is None  # `qa index` holds the lock
    status, _ = chat.upload([str(upload)])  # waits for the CLI's lock, then indexes
    assert "Added minutes.txt: searchable now." in status, status
    code, _, err = run.finish()
    assert code == 0, err
    assert Library.open(index).retrieve("4242 quokkas", k=1, mode="keyword")[0].source == "minutes.txt"
    again, _ = chat.upload([str(upload)])
    assert "Already in the folder as minutes.txt: nothing added." in again, again
    assert sorted(p.name for p in folder.glob("minutes*")) == ["minutes.txt"]
