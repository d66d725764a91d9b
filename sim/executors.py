"""Where replications run: one core, a local process pool, or Dask.

Each executor is a context manager: entering starts its workers (a pool, a Dask client)
and leaving stops them, so one executor can serve every variant of a comparison or every
sample of a sweep. ``batches`` yields finished replications in completion order; the
numbers do not depend on the executor (replication ``r`` always draws from its own
seed streams).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import datetime as _dt
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any

import numpy as np

from .engine import run_replication
from .errors import ChipsimUserError
from .network import Network, build_network
from .schema import Scenario

EXECUTORS = ("processes", "dask")
# (replication, its (day, series) values, its triggers: (policy index, fired day, start day) each)
Batch = list[tuple[int, np.ndarray, tuple]]


def _one(net: Network, seed: int, r: int) -> tuple[int, np.ndarray, tuple]:
    out = run_replication(net, seed, r)
    return r, finite_values(net, r, out.values), out.triggers


# what a worker may make of its chunk before shipping it: reduce(net, batch) -> something
# with a len() (the replications it holds), e.g. a summary run's outcomes and statistics
Reduce = Callable[[Network, Batch], Any]


def _run_chunk(scenario: Scenario, seed: int, reps: Sequence[int], reduce: Reduce | None = None) -> Any:
    net = build_network(scenario)
    batch = [_one(net, seed, r) for r in reps]
    return batch if reduce is None else reduce(net, batch)


def finite_values(net: Network, replication: int, values: np.ndarray) -> np.ndarray:
    """``values`` (horizon x series) if every one is finite; else stop the run with a
    message naming the first day, node, product and metric that overflowed."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    day, k = (int(i) for i in np.argwhere(bad)[0])
    slot, metric = net.series[k]
    node, product = net.slots[slot]
    date = net.scenario.start_date + _dt.timedelta(days=day)
    raise ChipsimUserError(
        f"replication {replication}: {metric} of {product} at {node} became {values[day, k]} on day {day} ({date}); "
        "a parameter is too large for the arithmetic (check demand multipliers, growth and capacities)")


CHUNK_BYTES = 32 * 2**20  # the largest chunk of daily values a worker ships at once


def _chunks(reps: Sequence[int], workers: int, bytes_per_rep: int = 0) -> list[list[int]]:
    """Replications in chunks: several per worker keeps the pool busy when replications
    differ in cost, and no chunk's daily values exceed ``CHUNK_BYTES`` (``bytes_per_rep``
    each), so what is in flight between the workers and the parent stays small however
    many replications run (2 x workers chunks at most, see ``_bounded``)."""
    size = max(1, len(reps) // (workers * 4))
    if bytes_per_rep > 0:
        size = max(1, min(size, CHUNK_BYTES // bytes_per_rep))
    return [list(reps[i:i + size]) for i in range(0, len(reps), size)]


def _rep_bytes(net: Network) -> int:
    """Bytes of one replication's (day, series) values."""
    return net.horizon * len(net.series) * 8


def _quiet_worker(parent: int) -> None:
    """Workers leave interrupts to the parent, which stops them and reports once, and die
    with the parent: a parent killed outright (SIGKILL, the OOM killer) cannot stop them,
    and a worker blocked on its result queue would otherwise hold its memory for ever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:  # the kernel sends SIGKILL when the parent goes (PR_SET_PDEATHSIG = 1)
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(1)

    def watch() -> None:  # where the kernel cannot be asked (macOS), or as a second guard
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="chipsim-parent-watch", daemon=True).start()


def _bounded(submit: Callable[[list[int]], Any], chunks: list[list[int]], in_flight: int,
             wait_first: Callable[[set], tuple[set, set]]) -> Iterator[Batch]:
    """Results of ``submit(chunk)`` as they finish, with at most ``in_flight`` chunks
    submitted and unread, so finished replications are not all held in memory at once."""
    todo = iter(chunks)
    pending = set()
    for chunk in itertools.islice(todo, in_flight):
        pending.add(submit(chunk))
    while pending:
        done, pending = wait_first(pending)
        for future in done:
            result = future.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.add(submit(nxt))
            yield result
        del done


class Executor:
    """Runs replications in this process, one after another (the base of the others)."""

    name = "serial"
    shares_disk = False  # whether its workers write to this machine's disk (a summary run's files): here no worker

    def __init__(self, workers: int = 1):
        self.workers = workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def batches(self, net: Network, seed: int, replications: int, reduce: Reduce | None = None) -> Iterator[Any]:
        """Replications ``0 .. replications - 1`` of the network, each as a batch of one;
        with ``reduce``, ``reduce(net, batch)`` of chunks of consecutive replications
        (as the pool's workers make them)."""
        if reduce is None:
            for r in range(replications):
                yield [_one(net, seed, r)]
            return
        for chunk in _chunks(list(range(replications)), self.workers, _rep_bytes(net)):
            yield reduce(net, [_one(net, seed, r) for r in chunk])

    def map_chunks(self, fn: Callable[[Any], Any], chunks: Sequence[Any]) -> Iterator[Any]:
        """``fn(chunk)`` of every chunk, in completion order (here: in order); ``fn`` must
        be picklable (a module-level function or a ``functools.partial`` of one)."""
        for chunk in chunks:
            yield fn(chunk)


class ProcessExecutor(Executor):
    """A local process pool of ``workers`` processes, started once on entering."""

    name = "processes"
    shares_disk = True

    def __init__(self, workers: int):
        super().__init__(workers)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context(method),
                                         initializer=_quiet_worker, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc_info: object) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_info[0] is None:
            pool.shutdown()
            return
        # interrupted (Ctrl-C, SIGTERM) or failed: stop the workers now, not after their chunks
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        # A worker killed while sending a chunk leaves half a message in the result pipe, and
        # the pool's manager thread then waits for the rest for ever (the interpreter joins
        # it at exit: the command hung after "interrupted"). With the workers gone, closing
        # the parent's copy of the pipe's write end turns that wait into end-of-file, which
        # the thread handles as a broken pool and ends.
        writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
        if writer is not None:
            writer.close()
        pool.shutdown(wait=False, cancel_futures=True)

    def batches(self, net: Network, seed: int, replications: int, reduce: Reduce | None = None) -> Iterator[Any]:
        """Chunks of replications from the pool, in completion order (each reduced by
        ``reduce`` in its worker when given)."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("enter the executor (with ...) before running on it")
        yield from _bounded(lambda chunk: pool.submit(_run_chunk, net.scenario, seed, chunk, reduce),
                            _chunks(list(range(replications)), self.workers, _rep_bytes(net)), 2 * self.workers,
                            lambda pending: futures_wait(pending, return_when=FIRST_COMPLETED))

    def map_chunks(self, fn: Callable[[Any], Any], chunks: Sequence[Any]) -> Iterator[Any]:
        """``fn(chunk)`` of every chunk from the pool, in completion order, at most two
        chunks per worker in flight."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("enter the executor (with ...) before running on it")
        yield from _bounded(lambda chunk: pool.submit(fn, chunk), list(chunks), 2 * self.workers,
                            lambda pending: futures_wait(pending, return_when=FIRST_COMPLETED))


def _check_address(address: str) -> None:
    """Refuse a scheduler address that is not ``scheme://host:port`` before connecting."""
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls", "ws", "wss") or not parts.hostname or port is None:
        raise ChipsimUserError(f"--scheduler {address!r} is not a Dask scheduler address; write tcp://HOST:PORT "
                               "(for example tcp://127.0.0.1:8786)")


class DaskExecutor(Executor):
    """A Dask client: of the ``scheduler`` address, or of a LocalCluster of ``workers``."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None):
        super().__init__(workers)
        self.scheduler = scheduler
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ChipsimUserError("the dask executor needs dask.distributed: pip install 'chipsim[dask]'") from None
        try:
            if self.scheduler:
                _check_address(self.scheduler)
                self._client = Client(self.scheduler, timeout="20s")
            else:
                self._cluster = LocalCluster(n_workers=max(1, self.workers), threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster)
        except (OSError, ValueError, TimeoutError) as exc:
            raise ChipsimUserError(f"cannot reach the Dask scheduler {self.scheduler}: {exc}") from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def batches(self, net: Network, seed: int, replications: int, reduce: Reduce | None = None) -> Iterator[Any]:
        """Chunks of replications from the Dask workers, in completion order (each
        reduced by ``reduce`` on its worker when given)."""
        from distributed import wait as distributed_wait

        client = self._client
        if client is None:
            raise RuntimeError("enter the executor (with ...) before running on it")
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or self.workers)
        remote = client.scatter(net.scenario, broadcast=True)

        def wait_dask(pending: set) -> tuple[set, set]:
            result = distributed_wait(list(pending), return_when="FIRST_COMPLETED")
            return set(result.done), set(result.not_done)

        yield from _bounded(lambda chunk: client.submit(_run_chunk, remote, seed, chunk, reduce, pure=False),
                            _chunks(list(range(replications)), n_workers, _rep_bytes(net)), 2 * n_workers, wait_dask)

    def map_chunks(self, fn: Callable[[Any], Any], chunks: Sequence[Any]) -> Iterator[Any]:
        """``fn(chunk)`` of every chunk on the Dask workers, in completion order, at most
        two chunks per worker in flight."""
        from distributed import wait as distributed_wait

        client = self._client
        if client is None:
            raise RuntimeError("enter the executor (with ...) before running on it")
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or self.workers)

        def wait_dask(pending: set) -> tuple[set, set]:
            result = distributed_wait(list(pending), return_when="FIRST_COMPLETED")
            return set(result.done), set(result.not_done)

        yield from _bounded(lambda chunk: client.submit(fn, chunk, pure=False), list(chunks), 2 * n_workers, wait_dask)


def make_executor(kind: str = "processes", workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``kind`` ("processes" or "dask"); a process pool of one worker is
    the serial executor. Enter it (``with``) before running on it."""
    if kind not in EXECUTORS:
        raise ChipsimUserError(f"unknown executor '{kind}'; use one of: {', '.join(EXECUTORS)}")
    if workers < 1:
        raise ChipsimUserError(f"workers must be at least 1, got {workers}")
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    return ProcessExecutor(workers) if workers > 1 else Executor()
