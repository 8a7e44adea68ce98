"""Distributed encoding on Ray: the passages a sync must embed go through Ray Data.

`RayEncoder` has the encoder protocol of `Library.sync(encoder=...)` (`.model_name`,
`.dim`, `.encode_passages`, `.encode_with_spans`), so the catalog diff, the FAISS index and the atomic switch
stay the local code; only the encoding runs on the cluster, one `embeddings.Encoder`
per Ray worker, loaded once. Ray is an optional extra and is imported only here, inside
functions: importing `qa` never imports Ray.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np

from embeddings.encoder import Span, model_name_for
from qa import config
from qa.errors import ClusterError, MissingExtra

INSTALL_HINT = "pip install 'qa[ray]'"
DEFAULT_WORKERS = 2
DEFAULT_BATCH_SIZE = 64
TASK_RETRIES = 3
JOIN_TIMEOUT = 10.0  # seconds to reach a cluster's address before giving up
LOCAL_OBJECT_STORE = 1 << 30  # texts in, vectors out: ~2 KB a passage; Ray spills to disk beyond
_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MissingExtra(f"Distributed indexing needs Ray, which is not installed — run: {INSTALL_HINT}") from exc
    return ray


class EncoderActor:
    """Ray Data callable class: loads one `embeddings.Encoder` per worker, then encodes batches."""

    def __init__(self, model_path: str | None, precision: str, width: int = 1) -> None:
        import ray
        import torch

        from embeddings.encoder import Encoder  # the worker's own install and model package

        self.encoder = Encoder(model_path=model_path, precision=precision)
        # Encoder sizes its threads by the machine's cores; a worker owns only the CPUs Ray
        # gave it, and two workers each running os.cpu_count() threads would fight over them.
        cpus = max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
        self.encoder.threads = cpus
        torch.set_num_threads(cpus)
        self.width = width

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each text's vectors (its own, then its spans'), zero-padded to `width` rows."""
        texts = [str(t) for t in batch["text"]]
        spans = [[tuple(s) for s in json.loads(str(j))] for j in batch["spans"]]
        out = np.zeros((len(texts), self.width, self.encoder.dim), dtype=np.float32)
        counts = np.zeros(len(texts), dtype=np.int64)
        for row, vectors in enumerate(self.encoder.encode_with_spans(texts, spans)):
            out[row, : len(vectors)] = vectors
            counts[row] = len(vectors)
        return {"i": batch["i"], "vector": out, "count": counts}


def _describe(model_path: str | None, precision: str) -> int:
    from embeddings.encoder import Encoder

    return int(Encoder(model_path=model_path, precision=precision).dim)


def _quiet_ray_data() -> None:
    """Ray Data logs every execution (and that its progress bars are off) on the console;
    keep all that for its log file, and only errors for the console."""
    for handler in logging.getLogger("ray.data").handlers:
        if not hasattr(handler, "baseFilename"):
            handler.setLevel(logging.ERROR)


def _host_port(address: str) -> tuple[str, int] | None:
    """("host", port) of "host:port" or "ray://host:port"; None for "auto" and other forms."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() else None


def _check_reachable(address: str) -> None:
    """Fail fast on a wrong address: Ray itself retries an unreachable cluster for minutes."""
    target = _host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=JOIN_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(
            f"Cannot reach Ray at {address} ({exc.strerror or exc}) — give the head node's address, e.g. --ray HOST:6379"
        ) from exc


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """Keep a local Ray instance on 127.0.0.1.

    Ray binds its servers to the machine's routable address unless it believes it runs
    on a lone laptop; that belief comes from this variable, read once at import time,
    so both the variable (inherited by Ray's child processes) and the constant are set.
    """
    from ray._private import ray_constants

    old_env, old_flag = os.environ.get(_CLUSTER_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_CLUSTER_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = old_flag
        if old_env is None:
            os.environ.pop(_CLUSTER_ENV, None)
        else:
            os.environ[_CLUSTER_ENV] = old_env


class RayEncoder:
    """Encode passages on Ray workers; same vectors, same order as `embeddings.Encoder`.

    address=None starts a private local Ray instance on loopback with `num_workers`
    CPUs; an address ("host:6379", "auto", "ray://host:10001") joins that cluster,
    whose nodes each need qa with the ray extra and the model package installed.
    """

    def __init__(
        self,
        address: str | None = None,
        model_path: str | None = None,
        num_workers: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        precision: str | None = None,
        progress: bool = False,
    ) -> None:
        self._ray = _import_ray()
        self.address = address
        self.model_path = model_path
        self.precision = precision or config.precision()
        self.batch_size = max(1, int(batch_size))
        self.progress = progress
        self._owns_ray = self._connected = False
        self._asked_workers = num_workers
        self._num_workers: int | None = None
        self.model_name = model_name_for(model_path)  # what the index records; checked before any work
        self._dim: int | None = None

    @property
    def num_workers(self) -> int:
        """Workers per job: as asked, else one per CPU of the cluster. Ray starts on first use,
        so a sync with nothing to encode never starts or joins it."""
        if self._num_workers is None:
            self._connect()
            self._num_workers = self._asked_workers or self._cluster_cpus()
        return self._num_workers

    @property
    def texts_per_call(self) -> int:
        """Each encode_passages call starts a Ray Data job whose workers load the model
        (seconds): a caller that batches should send about this many texts per call."""
        return max(8192, self.num_workers * self.batch_size * 32)

    def _connect(self) -> None:
        ray = self._ray
        if self._connected:
            return
        if self.address is not None:
            _check_reachable(self.address)
        self._connected = True
        if ray.is_initialized():
            return  # the caller's own Ray session (a notebook, a test fixture): use it
        common: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        try:
            if self.address is None:
                with _loopback_only():
                    ray.init(
                        num_cpus=self._asked_workers or DEFAULT_WORKERS,
                        object_store_memory=LOCAL_OBJECT_STORE,
                        _node_ip_address="127.0.0.1",
                        log_to_driver=False,
                        # Ray nices workers to 15 to keep its daemons responsive on shared nodes;
                        # this instance exists only for the job, which should run like a local sync.
                        _system_config={"worker_niceness": 0},
                        **common,
                    )
                self._owns_ray = True
            else:
                target = _host_port(self.address)
                # Ray rewrites a loopback address to the machine's own; a cluster started on
                # loopback (like the local instance above) is only reachable as loopback.
                local = target is not None and target[0] in ("127.0.0.1", "localhost", "::1")
                with _loopback_only() if local else contextlib.nullcontext():
                    ray.init(address=self.address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            self._connected = False
            where = self.address or "a local instance"
            raise ClusterError(f"Cannot start or join Ray at {where}: {exc}") from exc

    def _cluster_cpus(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", DEFAULT_WORKERS)))

    @property
    def dim(self) -> int:
        """The model's dimension, asked of a worker: that also checks early that the
        workers can import the project and load the model, before a sync starts."""
        if self._dim is None:
            self._connect()
            task = self._ray.remote(num_cpus=0, max_retries=TASK_RETRIES)(_describe)
            self._dim = int(self._ray.get(task.remote(self.model_path, self.precision)))
        return self._dim

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 L2-normalised vectors, row i for texts[i]."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([v[0] for v in self.encode_with_spans(texts, [[] for _ in texts])])

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]]) -> list[np.ndarray]:
        """As `embeddings.Encoder.encode_with_spans`: per text, its vector, then its spans' vectors."""
        texts = list(texts)
        n, dim, workers = len(texts), self.dim, self.num_workers  # connects first: Ray Data would
        if n == 0:  # otherwise start a default Ray instance of its own (all interfaces, all CPUs)
            return []
        width = 1 + max(len(s) for s in spans)
        ray = self._ray
        ray.data.DataContext.get_current().enable_progress_bars = self.progress
        if not self.progress:
            _quiet_ray_data()
        # Similar lengths share a batch (less padding); the index column restores the order.
        order = sorted(range(n), key=lambda i: len(texts[i]))
        batches = math.ceil(n / self.batch_size)
        items = [{"i": i, "text": texts[i], "spans": json.dumps(spans[i])} for i in order]
        dataset = ray.data.from_items(items, override_num_blocks=batches).map_batches(
            EncoderActor,
            fn_constructor_kwargs={"model_path": self.model_path, "precision": self.precision, "width": width},
            batch_size=self.batch_size,
            batch_format="numpy",
            # Ray Data's actor pools default to max_restarts=-1 and max_task_retries=-1
            # (ActorPoolMapOperator._apply_default_remote_args, Ray 2.60; passing them
            # here is deprecated): a worker that dies is restarted and its batch re-run,
            # while a batch whose code raises fails the run (actor_task_retry_on_errors
            # is False), which leaves the previous index in place.
            compute=ray.data.ActorPoolStrategy(size=min(workers, batches)),
            num_cpus=1,
        )
        vectors = np.zeros((n, width, dim), dtype=np.float32)
        counts = np.zeros(n, dtype=np.int64)
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            rows = np.asarray(batch["i"], dtype=np.int64)
            vectors[rows] = batch["vector"]
            counts[rows] = batch["count"]
        if not counts.all():
            raise ClusterError(f"Ray returned {int((counts > 0).sum())} of {n} vectors — run the sync again")
        return [vectors[i, : counts[i]] for i in range(n)]

    def close(self) -> None:
        """Shut down the local Ray instance this encoder started (a joined cluster stays up)."""
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns_ray = self._connected = False

    def __enter__(self) -> RayEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_ray_encoder(address: str | None, model_path: str | None) -> RayEncoder:
    """The encoder `qa index --ray [ADDRESS]` passes to `Library.sync`."""
    return RayEncoder(address=address, model_path=model_path or config.model_path())
