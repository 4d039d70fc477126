"""Population backends: run a population's episodes serially, in a process pool, or on Ray.

Every backend splits the population into chunks and each chunk runs every episode of the
generation (seeded by the run seed and the generation; each agent's random start by its
place in the population; episodes on different tracks together in one world), so fitness
does not depend on the backend or the number of workers.  Worker
functions live at module scope (a process pool pickles them by name).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import numpy as np

from common.errors import UserError
from evo.tasks import TaskSpec

BACKENDS = ("serial", "process", "ray")


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, and a container's CPU quota
    (cgroup v2 ``cpu.max``) when that is lower; at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            n = min(n, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def split(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices covering ``range(n)``, sizes differing by at most one."""
    parts = max(1, min(parts, n))
    bounds = np.linspace(0, n, parts + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def merge(results: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chunks of one episode, in population order -> one result."""
    out = {k: np.concatenate([r[k] for r in results]) for k in results[0] if k != "agent_steps"}
    out["agent_steps"] = np.array(sum(int(r["agent_steps"]) for r in results))
    return out


def combine(episodes: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Several episodes of the same genomes -> fitness and every column averaged over the
    episodes, agent steps summed."""
    if len(episodes) == 1:
        return episodes[0]
    out = {k: np.mean([r[k] for r in episodes], axis=0) for k in episodes[0]
           if k != "agent_steps"}
    out["agent_steps"] = np.array(sum(int(r["agent_steps"]) for r in episodes))
    return out


def as_seeds(seed) -> list[int]:
    """One episode seed or a sequence of them -> a list."""
    return [int(seed)] if np.ndim(seed) == 0 else [int(s) for s in seed]


def assemble(per_chunk: list[list[dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """Results of the population's chunks, in population order, each a list of one result
    per episode (what :meth:`~evo.task.Task.evaluate_episodes` returns) -> one result per
    genome: the chunks of every episode merged, then the episodes averaged."""
    return combine([merge([chunk[e] for chunk in per_chunk])
                    for e in range(len(per_chunk[0]))])


class Backend:
    """``evaluate(thetas (P, D), seed) -> {"fitness": (P,), ...}``.  ``seed``: one episode's
    seed, or a list of them: every genome then runs each episode and its fitness is the
    mean (see :func:`combine`)."""

    workers = 1

    def evaluate(self, thetas: np.ndarray, seed) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialBackend(Backend):
    def __init__(self, spec: TaskSpec, chunk: int = 0):
        self.task = spec.build()
        self.chunk = chunk

    def evaluate(self, thetas, seed):
        seeds = as_seeds(seed)
        n = len(thetas)
        chunks = split(n, -(-n // self.chunk) if self.chunk else 1)
        return assemble([self.task.evaluate_episodes(thetas[s], seeds, s.start)
                         for s in chunks])


# -- process pool ------------------------------------------------------------------------
_WORKER_TASK = None


# A worker is one of several processes sharing the cores: its BLAS must not start threads
# of its own.  The variables are read when NumPy loads, which in a spawned worker happens
# before any code of ours runs, so they are set in the parent while workers start.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(spec: TaskSpec) -> None:
    global _WORKER_TASK
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER_TASK = spec.build()


def _worker_threads() -> str:
    """The BLAS thread setting a worker started with (for tests)."""
    return os.environ.get("OPENBLAS_NUM_THREADS", "")


def _eval_chunk(thetas: np.ndarray, seeds: list[int],
                first_member: int) -> list[dict[str, np.ndarray]]:
    return _WORKER_TASK.evaluate_episodes(thetas, seeds, first_member)


class ProcessBackend(Backend):
    """A pool of worker processes, each building the task once.  If a worker dies, the
    pool is rebuilt and the unfinished chunks run again (up to ``retries`` times)."""

    def __init__(self, spec: TaskSpec, workers: int = 0, chunks_per_worker: int = 1,
                 retries: int = 3):
        self.spec = spec
        self.workers = workers or usable_cpus()
        self.chunks_per_worker = chunks_per_worker
        self.retries = retries
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0  # times the pool was rebuilt after a worker died

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing as mp

            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.spec,))
        return self._pool

    def evaluate(self, thetas, seed):
        seeds = as_seeds(seed)
        parts = split(len(thetas), self.workers * self.chunks_per_worker)
        results: dict[int, list] = {}
        for attempt in range(self.retries + 1):
            futures = {}
            try:
                with _single_threaded_children():  # the pool starts workers as it needs them
                    pool = self._get_pool()
                    futures = {i: pool.submit(_eval_chunk, thetas[s], seeds, s.start)
                               for i, s in enumerate(parts) if i not in results}
                for i, fut in futures.items():
                    results[i] = fut.result()
                break
            except BrokenProcessPool:
                # a worker died (killed, out of memory): rebuild and rerun what is missing
                for i, fut in futures.items():
                    if i not in results and fut.done() and fut.exception() is None:
                        results[i] = fut.result()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self.restarts += 1
                if attempt == self.retries:
                    raise RuntimeError(f"worker processes died {self.retries + 1} times "
                                       f"in a row") from None
        per_chunk = [results[i] for i in range(len(parts))]
        return assemble(per_chunk)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# -- ray -------------------------------------------------------------------------------
LOCAL_RAY_IP = "127.0.0.2"


class BackendUnavailable(UserError):
    """A backend whose optional extra is not installed (one line, exit status 2)."""


class RayBackend(Backend):
    """One Ray actor per worker, each building the task once (``pip install neuroevo[ray]``).
    ``address``: an existing cluster (``ray start --head``; the actors spread over its
    nodes), or empty for a local Ray that :meth:`close` shuts down again (a joined cluster
    keeps running).  An actor that dies mid-generation (its process or node gone) is
    replaced and its pieces run again, up to ``retries`` times a generation."""

    def __init__(self, spec: TaskSpec, workers: int = 0, address: str = "",
                 retries: int = 3):
        try:
            import ray
        except ImportError:
            raise BackendUnavailable("the ray backend needs Ray: pip install "
                                     "'neuroevo[ray]'") from None
        self._ray = ray
        self.spec = spec
        self.retries = retries
        self.restarts = 0  # actors replaced after dying
        self._started = False
        if not ray.is_initialized():
            kw = dict(include_dashboard=False, log_to_driver=False)
            try:
                if address:
                    host = address.rpartition(":")[0]
                    if host.startswith("127."):  # a cluster on this machine's loopback
                        kw["_node_ip_address"] = host
                    ray.init(address=address, **kw)
                else:  # a Ray of our own, on the loopback only (Ray would take 127.0.0.1
                    # to mean "this machine's network address"); "local": not the cluster
                    # that `ray start` may have left running here (ray.init's default joins it)
                    ray.init(address="local", num_cpus=workers or usable_cpus(),
                             _node_ip_address=LOCAL_RAY_IP, **kw)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = f"the Ray cluster at {address}" if address else "a local Ray"
                raise BackendUnavailable(f"cannot start or join {where}: "
                                         f"{str(e).strip().splitlines()[0]}") from None
            self._started = True
        self.workers = workers or int(ray.cluster_resources().get("CPU", 1))
        # SPREAD: one actor per node before two on any node
        self._actor_class = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_RayWorker)
        self._actors = [self._new_actor() for _ in range(self.workers)]
        if address:
            print(f"ray: {self.workers} actors on {self.nodes()} node(s) of the cluster at "
                  f"{address}", file=sys.stderr)

    def _new_actor(self):
        return self._actor_class.remote(self.spec)

    def nodes(self) -> int:
        """How many cluster nodes the actors run on."""
        ray = self._ray
        return len(set(ray.get([a.node.remote() for a in self._actors])))

    def evaluate(self, thetas, seed):
        ray = self._ray
        seeds = as_seeds(seed)
        parts = split(len(thetas), self.workers)
        results: dict[int, list] = {}
        for attempt in range(self.retries + 1):
            pending = {i: (i % len(self._actors), self._actors[i % len(self._actors)]
                           .evaluate_episodes.remote(thetas[s], seeds, s.start))
                       for i, s in enumerate(parts) if i not in results}
            dead = set()
            for i, (k, ref) in pending.items():
                try:
                    results[i] = ray.get(ref)
                except ray.exceptions.RayActorError:  # the actor (or its node) died
                    dead.add(k)
            if not dead:
                break
            if attempt == self.retries:
                raise RuntimeError(f"Ray actors died {self.retries + 1} times in a row")
            for k in dead:  # replace the dead actors, then rerun what they had
                self._actors[k] = self._new_actor()
                self.restarts += 1
        per_chunk = [results[i] for i in range(len(parts))]
        return assemble(per_chunk)

    def close(self):
        for a in getattr(self, "_actors", []):
            try:
                self._ray.kill(a)
            except Exception:  # noqa: BLE001 - already dead: nothing to release
                pass
        self._actors = []
        if self._started:  # ours: a local Ray stops, a joined cluster is only left
            self._ray.shutdown()
            self._started = False


class _RayWorker:
    def __init__(self, spec: TaskSpec):
        self.task = spec.build()

    def evaluate_episodes(self, thetas, seeds, first_member=0):
        return self.task.evaluate_episodes(thetas, seeds, first_member)

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def pid(self) -> int:
        return os.getpid()


def make_backend(backend: str, spec: TaskSpec, workers: int = 0, address: str = "",
                 chunk: int = 0) -> Backend:
    if backend == "serial":
        return SerialBackend(spec, chunk)
    if backend == "process":
        return ProcessBackend(spec, workers)
    if backend == "ray":
        return RayBackend(spec, workers, address)
    raise ValueError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
