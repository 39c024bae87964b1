"""Starting and stopping the system's processes: free ports, bounded waits, stop by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout, when run from one (tests use it)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for servers that cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               interval: float = 0.05) -> object:
    """Poll `condition` until it returns something truthy; TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


class Process:
    """A child process whose output goes to a log file; stop() always ends it."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str] | None,
                 log_path: Path, cwd: Path | None = None) -> None:
        self.name, self.args, self.log_path = name, list(args), log_path
        self.names: tuple[str, ...] = ()   # what it registers in the name server
        self.url: str | None = None        # where it answers over HTTP, if it does
        self.started = time.time()
        self.log_start = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.args, cwd=cwd, env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        """What this process (not an earlier one with the same log file) has printed."""
        with open(self.log_path, "rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return self.kill()

    def kill(self) -> int:
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
        return self.popen.wait(timeout=10)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it exists
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc: trust the signal
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def python(*args: str) -> list[str]:
    """A command line running this interpreter without output buffering."""
    return [sys.executable, "-u", *args]
