"""Helpers for tests: run the client as a process, drive it through a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import Pyro4

from pyro_objects import config
from pyro_objects.processes import ROOT, python
from pyro_objects.proxy import Proxy
from pyro_objects.system.local import HOST, LocalSystem

CLIENT_TIMEOUT = 60


def run_client(system: LocalSystem, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """pyro_client.py with `args` against `system`'s name server; output captured as text."""
    return subprocess.run(
        client_command(*args), input=stdin if stdin is not None else "", text=True,
        capture_output=True, timeout=CLIENT_TIMEOUT, env={**system.env, **(env or {})},
    )


def client_command(*args: str) -> list[str]:
    """The command line of pyro_client.py running `args`."""
    return python(str(ROOT / "pyro_client.py"), *args)


def proxy(system: LocalSystem, name: str, timeout: float = 30.0) -> Pyro4.Proxy:
    """A proxy for `name` through `system`'s name server, with a call timeout."""
    p = Proxy(f"PYRONAME:{name}@{HOST}:{system.ns_port}")
    p._pyroTimeout = timeout
    return p


def _take_terminal() -> None:
    """In the child: a session of its own, with the pty on stdin as its controlling terminal,
    so that Ctrl-C typed there is a SIGINT, as in a real terminal."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A process attached to a pseudo-terminal, read with deadlines."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        preexec_fn=_take_terminal)
        os.close(slave)
        self.output = ""

    def read_until(self, text: str, timeout: float = 20.0) -> str:
        """Everything printed up to and including `text`; TimeoutError if it never comes."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{text!r} not printed; got: {self.output!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process closed the terminal
                    chunk = b""
                if not chunk:
                    raise TimeoutError(f"terminal closed before {text!r}; got: {self.output!r}")
                self.output += chunk.decode(errors="replace")
        head, _, self.output = self.output.partition(text)
        return head + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def run(self, line: str, prompt: str = "pyro> ") -> str:
        """Type `line` and return what is printed up to the next prompt."""
        self.type(line)
        return self.read_until(prompt)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait(timeout=10)
        os.close(self.master)
        return code


@contextmanager
def name_server_of(system: LocalSystem) -> Iterator[None]:
    """While the block runs, this test process finds `system`'s name server."""
    before = config._ns_location
    config.set_ns_location(HOST, system.ns_port)
    try:
        yield
    finally:
        config._ns_location = before


def daemon_address(system: LocalSystem, name: str) -> tuple[str, int]:
    """The (host, port) of the daemon serving `name`."""
    with system.ns() as ns:
        uri = ns.lookup(name)
    return uri.host, uri.port


def closed_by_peer(sock, timeout: float) -> bool:
    """True if the peer closes `sock` within `timeout` (whatever it sends first is read)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


@contextmanager
def prompt(system: LocalSystem, history_dir: Path) -> Iterator[Terminal]:
    """The interactive client in a terminal, at its first prompt; it must quit cleanly."""
    env = {**system.env, "PYRO_CLIENT_HISTORY": str(history_dir / "history")}
    terminal = Terminal(client_command(), env)
    try:
        terminal.read_until("pyro> ")
        yield terminal
        terminal.type("quit")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()
