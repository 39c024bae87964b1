"""Keeping `up`'s processes running: each one that exits is restarted with backoff, and a
status file (written atomically) says what runs, for `pyro-objects status` and the console."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pyro_objects.processes import Process
from pyro_objects.system.local import HOST, LocalSystem

log = logging.getLogger(__name__)

FIRST_DELAY = 0.5         # seconds before the first restart of a process that exited
MAX_DELAY = 30.0          # the delay doubles at each exit, up to this
STEADY = 60.0             # seconds up after which the delay is back to FIRST_DELAY
INTERVAL = 0.2            # seconds between checks
STATUS_FILE = "status.json"
STATUS_ENV = "UP_STATUS_FILE"   # how `up` tells the web console where its status file is


@dataclass
class Watched:
    """What the supervisor knows of one process: `state` is up or restarting."""

    name: str
    pid: int
    up_since: float                 # Unix time of its latest start
    names: tuple[str, ...]
    log: str
    state: str = "up"
    restarts: int = 0
    last_exit: int | None = None
    restart_at: float | None = None  # Unix time, while restarting
    delay: float = FIRST_DELAY


class Supervisor:
    """Restarts `system`'s processes when they exit (after `first_delay` s, doubling up to
    `max_delay`, back to `first_delay` once a process stayed up `steady` s) and keeps the
    status file at `status_path` current."""

    def __init__(self, system: LocalSystem, status_path: Path, first_delay: float = FIRST_DELAY,
                 max_delay: float = MAX_DELAY, steady: float = STEADY) -> None:
        self.system, self.status_path = system, Path(status_path)
        self.first_delay, self.max_delay, self.steady = first_delay, max_delay, steady
        self.started = time.time()
        self.watched = {name: self._watch(process)
                        for name, process in system.processes.items()}
        self.write()

    def _watch(self, process: Process) -> Watched:
        return Watched(process.name, process.pid, process.started, process.names,
                       str(process.log_path), delay=self.first_delay)

    def run(self, stop: threading.Event, interval: float = INTERVAL) -> None:
        """Check every `interval` s until `stop` is set (also during a backoff wait)."""
        while not stop.wait(interval):
            self.check()

    def check(self) -> None:
        """One round: note exits, restart those whose delay is over, reset steady ones."""
        now, changed = time.time(), False
        for name, watched in self.watched.items():
            process = self.system.processes[name]
            if watched.state == "up" and not process.alive():
                watched.last_exit = process.popen.returncode
                watched.state, watched.restart_at = "restarting", now + watched.delay
                log.warning("%s (pid %d) exited with code %s; restarting in %.1f s (see %s)",
                            name, watched.pid, watched.last_exit, watched.delay, watched.log)
                watched.delay = min(watched.delay * 2, self.max_delay)
                changed = True
            elif watched.state == "restarting" and now >= watched.restart_at:
                changed = self._restart(watched, now)
            elif (watched.state == "up" and watched.delay != self.first_delay
                  and now - watched.up_since >= self.steady):
                watched.delay = self.first_delay
        if changed:
            self.write()

    def _restart(self, watched: Watched, now: float) -> bool:
        try:
            process = self.system.restart(watched.name)
        except OSError as exc:
            log.error("cannot restart %s: %s; trying again in %.1f s", watched.name, exc,
                      watched.delay)
            watched.restart_at = now + watched.delay
            watched.delay = min(watched.delay * 2, self.max_delay)
            return False
        watched.pid, watched.up_since, watched.state = process.pid, process.started, "up"
        watched.restarts += 1
        watched.restart_at = None
        log.warning("%s restarted (pid %d, restart %d)", watched.name, process.pid,
                    watched.restarts)
        return True

    def status(self) -> dict:
        web = self.system.processes.get("web")
        return {"pid": os.getpid(), "started": self.started, "updated": time.time(),
                "run_dir": str(self.system.workdir),
                "nameserver": {"host": HOST, "port": self.system.ns_port},
                "web": web.url if web else None,
                "processes": [{key: value for key, value in asdict(watched).items()
                               if key != "delay"} for watched in self.watched.values()]}

    def write(self) -> None:
        """The status file, replaced whole: a reader never sees half of it."""
        partial = self.status_path.with_name(f".{self.status_path.name}.{os.getpid()}")
        partial.write_text(json.dumps(self.status(), indent=1))
        os.replace(partial, self.status_path)

    def remove(self) -> None:
        self.status_path.unlink(missing_ok=True)


def read_status(path: Path) -> dict | None:
    """The status file at `path`, or None when there is none (no `up` wrote it)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
