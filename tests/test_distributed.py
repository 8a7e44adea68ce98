"""Distributed encoding on a local Ray instance: the same index as a local build, and failures.

Ray runs on loopback only, with two one-CPU workers, started once for the module and shut
down at its end. The corpus is the seeds plus generated dated articles written in tmp.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from qa import Library
from qa.errors import MissingExtra, QAError
from qa.index.slots import all_slots

from .conftest import SEEDS, assert_same_ranking, assert_same_vectors

# Ray Data's own DataContext() warns about fields it sets itself (Ray 2.60): not ours to fix.
pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]

TOPICS = {
    "wheat": ("wheat harvest", "farmers in Kansas", "drought", "grain prices", "bushels"),
    "rates": ("interest rates", "the central bank", "inflation", "mortgage costs", "basis points"),
    "vaccine": ("vaccine trial", "health regulators", "side effects", "hospital admissions", "doses"),
    "rail": ("rail strike", "train drivers", "wage talks", "cancelled services", "commuters"),
    "chips": ("chip factory", "semiconductor makers", "export controls", "supply shortages", "wafers"),
    "flood": ("river flooding", "emergency crews", "evacuations", "heavy rainfall", "sandbags"),
}
TEMPLATES = (
    "Officials said the {0} would shape the coming months, as {1} weighed their options.",
    "{1} warned that {2} could deepen, citing figures released on {day}.",
    "Analysts expect {3} to move by {n} percent before the end of the quarter.",
    "A spokesperson for {1} declined to comment on {2} but promised an update next week.",
    "The {0} has drawn attention after reports of {n} thousand {4} in a single month.",
    "Critics argued that {3} were being used to distract from {2}.",
    "Local newspapers described {2} as the most serious in {n} years.",
)
QUESTIONS = [
    "What did Biden warn Putin of if Russia invaded Ukraine?",
    "What did Peskov say about negotiations?",
    "How did the drought affect the wheat harvest?",
    "What did the central bank say about inflation?",
    "Why are train drivers on strike?",
    "How many people were evacuated because of the flooding?",
]


def write_corpus(folder: Path, n_docs: int = 30, seed: int = 7) -> None:
    """The seeds plus `n_docs` dated articles built from topic templates (deterministic)."""
    shutil.copytree(SEEDS, folder)
    rng = random.Random(seed)
    for i in range(n_docs):
        topic = list(TOPICS)[i % len(TOPICS)]
        day = f"2022-0{1 + i % 9}-{10 + i % 18}"
        sentences = [
            rng.choice(TEMPLATES).format(*TOPICS[topic], day=day, n=rng.randint(2, 90)) for _ in range(rng.randint(5, 12))
        ]
        (folder / f"gen_{i:03d}_{topic}.txt").write_text(f" date {day} " + " ".join(sentences), encoding="utf-8")


def chunk_table(lib: Library) -> dict[int, tuple[str, int, int, str]]:
    db = lib.view().catalog.db
    sql = 'SELECT c.id, d.path, c.start, c."end", c.hash FROM chunks c JOIN documents d ON d.id = c.doc_id'
    return {row[0]: tuple(row[1:]) for row in db.execute(sql)}


def bounded(fn: Any, seconds: float) -> Any:
    """Run fn() in a thread; fail the test (Ray left to the fixture) if it takes longer."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.fixture(scope="module", autouse=True)
def fp32() -> Iterator[None]:
    """Equality within 1e-5 is an fp32 promise: bf16 vectors vary with how texts are batched
    (measured up to 1.5e-3 between a local and a Ray build), so both sides run fp32 here."""
    before = os.environ.get("QA_PRECISION")
    os.environ["QA_PRECISION"] = "fp32"
    yield
    if before is None:
        os.environ.pop("QA_PRECISION", None)
    else:
        os.environ["QA_PRECISION"] = before


@pytest.fixture(scope="module")
def ray_encoder() -> Iterator[Any]:
    pytest.importorskip("ray", reason="Ray is not installed — run: pip install 'qa[ray]'")
    from qa.ingest.distributed import RayEncoder

    encoder = RayEncoder(num_workers=2, batch_size=16, precision="fp32")
    try:
        assert encoder.num_workers == 2  # starts Ray here, in the main thread
        yield encoder
    finally:
        encoder.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dist") / "docs"
    write_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def local_library(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    lib = Library.open(tmp_path_factory.mktemp("local-index"))
    lib.sync(corpus)
    yield lib
    lib.close()


def test_importing_qa_does_not_import_ray() -> None:
    code = "import qa, qa.ingest.distributed, qa.cli, sys; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.ingest.distributed import make_ray_encoder

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(MissingExtra, match=r"pip install 'qa\[ray\]'"):
        make_ray_encoder(None, None)


def test_unreachable_cluster_fails_fast() -> None:
    pytest.importorskip("ray", reason="Ray is not installed — run: pip install 'qa[ray]'")
    from qa.ingest.distributed import make_ray_encoder

    started = time.monotonic()
    with pytest.raises(QAError, match=r"Cannot reach Ray at 127\.0\.0\.1:9 .*--ray HOST:6379"):
        _ = make_ray_encoder("127.0.0.1:9", None).dim  # nothing listens on the discard port
    assert time.monotonic() - started < 15


def test_ray_build_equals_local_build(ray_encoder: Any, corpus: Path, local_library: Library, tmp_path: Path) -> None:
    ray_lib = Library.open(tmp_path / "ray-index")
    report = bounded(lambda: ray_lib.sync(corpus, encoder=ray_encoder), 240)
    assert report.chunks_encoded > 0
    local_chunks, ray_chunks = chunk_table(local_library), chunk_table(ray_lib)
    assert ray_chunks == local_chunks
    local_vectors, ray_vectors = local_library.view().vectors, ray_lib.view().vectors
    ids = local_vectors.stored(all_slots(local_chunks))  # each passage's vector and its sentences'
    assert np.array_equal(ray_vectors.stored(all_slots(local_chunks)), ids) and len(ids) > len(local_chunks)
    a = np.stack([local_vectors.reconstruct(i) for i in ids])
    b = np.stack([ray_vectors.reconstruct(i) for i in ids])
    # Indexed as the cache keeps them, in float16: encodings batched otherwise may round one step apart.
    assert_same_vectors(a, b)
    for question in QUESTIONS:
        for mode in ("dense", "hybrid"):
            assert_same_ranking(local_library.retrieve(question, k=10, mode=mode), ray_lib.retrieve(question, k=10, mode=mode))
    assert ray_lib.sync(corpus, encoder=ray_encoder).chunks_encoded == 0  # unchanged folder: no Ray job at all
    ray_lib.close()


def busy_encoder_workers(exclude: set[int]) -> list[int]:
    """This session's Ray workers (descendants of the driver) in the middle of a batch.

    Workers of an earlier job keep their last title while they shut down: `exclude` them.
    """
    pids = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            title = " ".join(proc.cmdline())
            if proc.pid not in exclude and title.startswith("ray::") and "EncoderActor" in title and ".submit" in title:
                pids.append(proc.pid)
    return pids


def test_killed_worker_costs_a_retry_not_the_run(ray_encoder: Any) -> None:
    from qa.library import shared_encoder

    rng = random.Random(3)
    words = [w for values in TOPICS.values() for phrase in values for w in phrase.split()]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) for _ in range(200)]
    result: dict[str, Any] = {}
    assert ray_encoder.dim == 384  # Ray is up before the job starts
    earlier = {p.pid for p in psutil.Process().children(recursive=True)}
    job = threading.Thread(target=lambda: result.update(v=ray_encoder.encode_passages(texts)), daemon=True)
    job.start()
    killed = None
    deadline = time.monotonic() + 180
    while killed is None and job.is_alive() and time.monotonic() < deadline:
        busy = busy_encoder_workers(exclude=earlier)
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    job.join(240)
    assert killed is not None, "no worker was seen encoding"
    assert not job.is_alive() and "v" in result
    assert np.abs(result["v"] - shared_encoder(None).encode_passages(texts)).max() <= 1e-5


class Interrupted(RuntimeError):
    pass


class FailsAfterFirstBatch:
    """A RayEncoder that encodes one Ray batch of what it is given, then raises."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.model_name, self.dim = inner, inner.model_name, inner.dim

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.inner.encode_passages(texts[: self.inner.batch_size])
        raise Interrupted("worker pool lost mid-sync")

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
        self.inner.encode_with_spans(texts[: self.inner.batch_size], spans[: self.inner.batch_size])
        raise Interrupted("worker pool lost mid-sync")


def test_interrupted_run_leaves_the_previous_index(ray_encoder: Any, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    lib = Library.open(tmp_path / "index")
    lib.sync(folder)  # the previous index: the seeds alone, built locally
    before = {q: [(h.chunk_id, h.score) for h in lib.retrieve(q, k=10)] for q in QUESTIONS}
    manifest = lib.store.manifest()
    for path in corpus.glob("gen_*.txt"):
        shutil.copy(path, folder / path.name)
    with pytest.raises(Interrupted):
        bounded(lambda: lib.sync(folder, encoder=FailsAfterFirstBatch(ray_encoder)), 180)
    assert lib.store.manifest() == manifest
    reopened = Library.open(tmp_path / "index")
    assert {q: [(h.chunk_id, h.score) for h in reopened.retrieve(q, k=10)] for q in QUESTIONS} == before
    reopened.close()
    lib.close()


def test_local_ray_listens_on_loopback_only(ray_encoder: Any) -> None:
    import ray

    assert ray_encoder.dim == 384  # Ray is up
    assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
    ray_procs = [p for p in psutil.Process().children(recursive=True) if "ray" in " ".join(p.cmdline()) or p.name() in (
        "gcs_server", "raylet")]  # fmt: skip
    assert ray_procs
    listening = [c.laddr.ip for p in ray_procs for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and set(listening) <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, listening
