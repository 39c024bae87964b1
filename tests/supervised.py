"""`pyro-objects up` as tests run it: a process with free ports and a run directory of its
own; it and every process it started are stopped by PID, also on failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyro_objects.processes import free_port, pid_alive, python, wait_until
from pyro_objects.system.local import HOST
from pyro_objects.system.supervisor import STATUS_FILE

START_TIMEOUT = 120


@dataclass
class Up:
    process: subprocess.Popen
    run_dir: Path
    output: Path
    env: dict[str, str]

    def status(self) -> dict:
        return json.loads((self.run_dir / STATUS_FILE).read_text())

    def process_named(self, name: str) -> dict:
        (found,) = [p for p in self.status()["processes"] if p["name"] == name]
        return found

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as in its terminal; its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.output.read_text()


def status_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """pyro-objects status in `env` (its RUN_DIR says which `up`)."""
    return subprocess.run(python("-m", "pyro_objects", "status", *args), capture_output=True,
                          text=True, timeout=60, env=env)


@contextmanager
def running_up(tmp_path: Path, *args: str) -> Iterator[Up]:
    """`pyro-objects up ARGS` until the block ends, once it says it is up."""
    run_dir = tmp_path / "run"
    env = {**os.environ, "RUN_DIR": str(run_dir), "PYRO_NS_PORT": str(free_port(HOST)),
           "PYRO_NS_HOST": HOST}
    output = tmp_path / "up.out"
    with open(output, "w") as out:
        process = subprocess.Popen(python("-m", "pyro_objects", "up", "--web-port", "0", *args),
                                   stdout=out, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    up = Up(process, run_dir, output, env)
    pids: set[int] = set()
    try:
        wait_until(lambda: "system up;" in up.log() or process.poll() is not None,
                   START_TIMEOUT, "pyro-objects up to start")
        assert process.poll() is None, up.log()
        pids.update(p["pid"] for p in up.status()["processes"])
        yield up
    finally:
        if (run_dir / STATUS_FILE).exists():
            pids.update(p["pid"] for p in up.status()["processes"])
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in pids:  # what up left behind, if it could not stop them
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
