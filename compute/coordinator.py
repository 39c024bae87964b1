"""Distributed π: the Leibniz series over every live compute worker, with failover.

    run = run_pi(2_000_000_000)          # finds the workers through the name server
    print(run.pi, run.error, run.to_json())
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import Pyro4
import Pyro4.errors

from compute.kernel import MAX_INDEX, MAX_TERMS_PER_CALL
from compute.slicing import Slice, SliceQueue, next_size
from pyro_objects import names
from pyro_objects.errors import Cancelled, NoWorkersError, TimedOut
from pyro_objects.naming import UNREACHABLE, answering, locate_ns
from pyro_objects.proxy import Proxy

log = logging.getLogger(__name__)

MIN_CALL_TIMEOUT = 5.0     # seconds a slice may take before its worker counts as gone
TIMEOUT_FACTOR = 4.0       # ... or this many times its expected duration, if longer
ASSUMED_RATE = 1e8         # terms/s assumed of a worker not yet measured
SLOWEST_RATE = 1e6         # terms/s below which a run is given up (see deadline)
# A worker that is gone: not registered, unreachable, timed out, or its address now taken by
# a daemon that does not serve it (DaemonError).
LOST = (*UNREACHABLE, Pyro4.errors.DaemonError)

Progress = Callable[[int, int, float], None]  # (terms done, terms, seconds so far)


@dataclass
class WorkerStats:
    name: str
    slices: int = 0
    terms: int = 0
    seconds: float = 0.0


@dataclass
class FailedSlice:
    start: int
    stop: int
    worker: str
    reason: str


@dataclass(frozen=True)
class Status:
    """A moment of a run, for watchers: terms done overall and by each worker so far."""

    done: int
    terms: int
    seconds: float
    workers: tuple[WorkerStats, ...]     # copies, in worker-name order
    lost: frozenset[str]                 # workers dropped from the run (their slices re-sent)


Watch = Callable[[Status], None]


@dataclass
class PiRun:
    """One run: the estimate, its error and bound, and what each worker did."""

    terms: int
    pi: float
    error: float
    bound: float
    seconds: float
    terms_per_second: float
    workers: list[WorkerStats] = field(default_factory=list)
    failed_slices: list[FailedSlice] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


def find_workers() -> dict[str, str]:
    """Every registered compute worker: {name: uri}, with one name-server query."""
    with locate_ns() as ns:
        try:
            return ns.list(metadata_all={names.WORKER_KIND})
        except Pyro4.errors.NamingError:  # a storage without metadata (Pyro4's dbm)
            return ns.list(prefix=names.WORKER_PREFIX)


def default_deadline(terms: int) -> float:
    """Seconds a run of `terms` may take: generous, but never forever."""
    return 60 + terms / SLOWEST_RATE


def check_request(terms: object, workers: object, slice_terms: object) -> None:
    if isinstance(terms, bool) or not isinstance(terms, int) or not 1 <= terms <= MAX_INDEX:
        raise ValueError(f"terms must be an int from 1 to 2**50 (got {terms!r})")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int (got {workers!r})")
    if slice_terms is not None and (not isinstance(slice_terms, int)
                                    or not 1 <= slice_terms <= MAX_TERMS_PER_CALL):
        raise ValueError(f"slice must be an int from 1 to {MAX_TERMS_PER_CALL} "
                         f"(got {slice_terms!r})")


class _Run:
    """What the worker threads of one run share."""

    def __init__(self, terms: int, workers: int, slice_terms: int | None) -> None:
        self.terms, self.slice_terms = terms, slice_terms
        self.queue = SliceQueue(terms)
        self.sums: list[float] = []
        self.done = 0
        self.alive = workers
        self.failed: list[FailedSlice] = []
        self.fatal: BaseException | None = None
        self.cancelled = threading.Event()
        self.changed = threading.Condition()

    def over(self) -> bool:
        return self.done >= self.terms or self.alive == 0 or self.fatal is not None

    def next_slice(self, rate: float | None) -> Slice | None:
        """The next slice for a worker, waiting while others may still give one back."""
        while not self.cancelled.is_set():
            piece = self.queue.take(next_size(rate, self.slice_terms))
            if piece is not None:
                return piece
            with self.changed:
                if self.over():
                    return None
                self.changed.wait(0.2)
        return None

    def work(self, stats: WorkerStats, uri: str) -> None:
        """One worker's loop: take a slice, compute it remotely, record it; stop on failure."""
        rate = None
        with Proxy(uri) as proxy:
            while (piece := self.next_slice(rate)) is not None:
                expected = piece.terms / (rate or ASSUMED_RATE)
                proxy._pyroTimeout = max(MIN_CALL_TIMEOUT, TIMEOUT_FACTOR * expected)
                began = time.perf_counter()
                try:
                    value = proxy.pi_slice(piece.start, piece.stop)
                except LOST as exc:
                    self._lose(stats.name, piece, exc)
                    return
                except Exception as exc:  # noqa: BLE001 - a wrong answer ends the whole run
                    with self.changed:
                        self.fatal = exc
                        self.changed.notify_all()
                    return
                seconds = time.perf_counter() - began
                rate = piece.terms / seconds if seconds > 0 else rate
                with self.changed:  # stats too, so that a Status is one consistent moment
                    stats.slices, stats.terms = stats.slices + 1, stats.terms + piece.terms
                    stats.seconds += seconds
                    self.sums.append(value)
                    self.done += piece.terms
                    self.changed.notify_all()

    def _lose(self, worker: str, piece: Slice, exc: Exception) -> None:
        log.warning("worker %s failed on terms %d..%d (%s); re-dispatching", worker,
                    piece.start, piece.stop, exc)
        self.queue.give_back(piece)
        with self.changed:
            self.failed.append(FailedSlice(piece.start, piece.stop, worker, str(exc)))
            self.alive -= 1
            self.changed.notify_all()

    def status(self, stats: list[WorkerStats], seconds: float) -> Status:
        """What is done so far; call with `changed` held."""
        return Status(self.done, self.terms, seconds,
                      tuple(dataclasses.replace(s) for s in stats),
                      frozenset(f.worker for f in self.failed))

    def wait(self, progress: Progress | None, watch: Watch | None, stats: list[WorkerStats],
             began: float, deadline: float, cancel: threading.Event | None) -> None:
        """Until the run is over, report progress at least every 0.1 s and on every slice
        done; KeyboardInterrupt when `cancel` is set."""
        while True:
            with self.changed:
                if self.over():
                    return
                if time.perf_counter() > deadline:
                    raise TimedOut(
                        f"the run took longer than its deadline of {deadline - began:g} s; "
                        f"{self.done} of {self.terms} terms were done",
                        "workers are too slow or stuck: check them (list), or give more time")
                self.changed.wait(0.1)
                seconds = time.perf_counter() - began
                done = self.done
                status = self.status(stats, seconds) if watch is not None else None
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            if progress is not None:
                progress(done, self.terms, seconds)
            if status is not None:
                watch(status)


def run_pi(terms: int, workers: int | None = None, slice_terms: int | None = None,
           progress: Progress | None = None, deadline: float | None = None,
           cancel: threading.Event | None = None, watch: Watch | None = None) -> PiRun:
    """4 * sum of the first `terms` Leibniz terms, sliced over (at most `workers`) workers.

    Only workers that answer a probe are used (a registry may still list dead ones). Raises
    NoWorkersError when none answers or all fail, TimedOut after `deadline` seconds
    (default: default_deadline(terms)). Ctrl-C (KeyboardInterrupt), or setting `cancel`
    from another thread, cancels: no new slices are handed out, each worker finishes at
    most the one it has, and Cancelled says what was done. `progress(done, terms, seconds)`
    and `watch(Status)` (per-worker detail) are called from this thread at least every
    0.1 s and on every slice done.
    """
    check_request(terms, workers, slice_terms)
    found = find_workers()
    if not found:
        raise NoWorkersError("no compute workers are registered in the name server",
                             "start some (pyro-objects worker), on this host or others")
    live = answering(found)
    if not live:
        raise NoWorkersError(f"none of the {len(found)} registered compute workers answers",
                             "start some (pyro-objects worker), on this host or others")
    if len(live) < len(found):
        log.warning("pi: skipping %d registered workers that do not answer: %s",
                    len(found) - len(live), ", ".join(sorted(set(found) - set(live))))
    found = live
    names = sorted(found)[:workers]
    run = _Run(terms, len(names), slice_terms)
    stats = [WorkerStats(name) for name in names]
    threads = [threading.Thread(target=run.work, args=(s, found[s.name]), daemon=True,
                                name=f"pi-{s.name}") for s in stats]
    began = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        log.info("pi: %d terms over %d workers: %s", terms, len(names), ", ".join(names))
        run.wait(progress, watch, stats, began, began + (deadline or default_deadline(terms)),
                 cancel)
    except KeyboardInterrupt:
        raise Cancelled(f"pi cancelled after {run.done:.3g} of {terms:.3g} terms, "
                        f"{time.perf_counter() - began:.1f} s") from None
    finally:
        run.cancelled.set()
    seconds = time.perf_counter() - began
    if run.fatal is not None:
        raise run.fatal
    if run.done < terms:
        raise NoWorkersError(
            f"all {len(names)} compute workers failed; {run.done} of {terms} terms were done",
            "start workers (pyro-objects worker) and run again")
    estimate = 4 * math.fsum(run.sums)
    return PiRun(terms=terms, pi=estimate, error=abs(estimate - math.pi), bound=1 / terms,
                 seconds=seconds, terms_per_second=terms / seconds if seconds else 0.0,
                 workers=[s for s in stats if s.slices], failed_slices=run.failed)
