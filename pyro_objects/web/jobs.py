"""π runs as jobs: stored in SQLite, queued, run one at a time by a background thread.

The running job's progress (overall and per worker) lives here, in memory, for every watcher:
`wait_change` lets any number of live streams follow it without one Pyro4 call of their own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from compute.coordinator import Status
from pyro_objects.errors import Cancelled, Error
from pyro_objects.library import Client
from pyro_objects.web import db

log = logging.getLogger(__name__)

MAX_QUEUED = 20
MAX_QUEUED_PER_USER = 5   # so that one user cannot fill the queue
REFRESH_SECONDS = 1.0     # progress is published when it moves, and at least this often
STOPPED = "the console stopped during this run"


def progress_view(run_id: int, status: Status) -> dict:
    """What a progress bar needs: done, rate and ETA overall and by worker."""
    seconds = status.seconds or 1e-9
    rate = status.done / seconds
    eta = (status.terms - status.done) / rate if status.done else None
    return {
        "id": run_id, "done": status.done, "terms": status.terms,
        "seconds": round(status.seconds, 3), "rate": rate, "eta": eta,
        "workers": [{"name": w.name, "terms": w.terms, "slices": w.slices,
                     "rate": w.terms / w.seconds if w.seconds else 0.0,
                     "lost": w.name in status.lost}
                    for w in status.workers],
    }


class Jobs:
    """The π run queue: submit, cancel, and the live state of the run going on."""

    def __init__(self, database: str | Path, client: Client, max_queued: int = MAX_QUEUED,
                 max_per_user: int = MAX_QUEUED_PER_USER) -> None:
        self.database, self.max_queued, self.max_per_user = database, max_queued, max_per_user
        self.client = client
        self._changed = threading.Condition()
        self._version = 0
        self._live: dict = {"current": None, "queued": [], "finished": None}
        self._payload = json.dumps({"version": 0, **self._live})
        self._current_id: int | None = None
        self._cancel = threading.Event()
        self._cancelled_by: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pi-jobs", daemon=True)

    # --- used by requests -------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, conn, who: str, terms: int, workers: int | None,
               slice_terms: int | None) -> dict:
        """Queue a run; OverflowError when max_queued runs, or max_per_user of `who`'s, wait
        already."""
        row = dict(db.queue_run(conn, who, terms, workers, slice_terms, self.max_queued,
                                self.max_per_user))
        self._publish_queue(conn)
        self._wake.set()
        return row

    def cancel(self, conn, run_id: int, who: str) -> bool:
        """Cancel a queued or running run; False when it is neither."""
        reason = f"cancelled by {who}"
        if db.cancel_queued(conn, run_id, reason):
            self._publish_queue(conn, finished=run_id)
            return True
        with self._changed:
            if self._current_id != run_id:
                return False
            self._cancelled_by = who
            self._cancel.set()
            return True

    def live(self) -> tuple[int, str]:
        """(version, JSON of {version, current, queued, finished}) now."""
        with self._changed:
            return self._version, self._payload

    def wait_change(self, version: int, timeout: float) -> tuple[int, str | None]:
        """The next state after `version` (JSON), or (version, None) after `timeout` s or
        when stopping."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != version
                                   or self._released.is_set(), timeout)
            if self._version == version:
                return version, None
            return self._version, self._payload

    def release_watchers(self) -> None:
        """Every wait_change returns at once, now and from now on."""
        self._released.set()
        with self._changed:
            self._changed.notify_all()

    def close(self, timeout: float = 10.0) -> None:
        """Stop: the run going on is cancelled and recorded as interrupted."""
        self.release_watchers()
        self._stopping.set()
        self._cancel.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- the runner -------------------------------------------------------------------------

    def _publish(self, **changes: object) -> None:
        with self._changed:
            self._live.update(changes)
            self._version += 1
            self._payload = json.dumps({"version": self._version, **self._live})
            self._changed.notify_all()

    def _publish_queue(self, conn, **changes: object) -> None:
        queued = [{"id": row["id"], "terms": row["terms"], "who": row["who"]}
                  for row in db.queued_runs(conn)]
        self._publish(queued=queued, **changes)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            with db.connection(self.database) as conn:
                row = db.claim_next_run(conn)
                if row is not None:
                    self._publish_queue(conn)
            if row is None:
                self._wake.wait(5.0)  # submit() wakes it at once
                continue
            state, fields = self._execute(row)
            with db.connection(self.database) as conn:
                db.finish_run(conn, row["id"], state, **fields)
                self._publish_queue(conn, current=None, finished=row["id"])
            log.info("pi run %d: %s", row["id"], state)

    def _watcher(self, run_id: int) -> Callable[[Status], None]:
        """Publishes a run's progress when terms were done, and at least every second (for
        the clock and the ETA): not on every tick of the coordinator."""
        last = {"done": -1, "at": 0.0}

        def watch(status: Status) -> None:
            now = time.monotonic()
            if status.done != last["done"] or now - last["at"] >= REFRESH_SECONDS:
                last.update(done=status.done, at=now)
                self._publish(current=progress_view(run_id, status))

        return watch

    def _execute(self, row) -> tuple[str, dict]:
        run_id = row["id"]
        with self._changed:
            self._current_id, self._cancelled_by = run_id, None
            if not self._stopping.is_set():
                self._cancel.clear()
        self._publish(current={"id": run_id, "done": 0, "terms": row["terms"], "seconds": 0.0,
                               "rate": 0.0, "eta": None, "workers": []})
        try:
            run = self.client.pi(row["terms"], workers=row["workers"],
                                 slice_terms=row["slice_terms"], cancel=self._cancel,
                                 watch=self._watcher(run_id))
        except Cancelled as exc:
            if self._stopping.is_set():
                return "interrupted", {"error": f"{STOPPED} ({exc})"}
            return "cancelled", {"error": f"cancelled by {self._cancelled_by}: {exc}"}
        except (Error, ValueError) as exc:
            return "failed", {"error": str(exc), "hint": getattr(exc, "hint", "") or None}
        except Exception as exc:
            log.exception("pi run %d failed", run_id)
            return "failed", {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            with self._changed:
                self._current_id = None
        return "done", {"result": run.to_json()}
