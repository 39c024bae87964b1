"""LocalSystem: the name server and every server as child processes on loopback."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import Pyro4.constants
import Pyro4.errors

from chain.ring import node_name
from pyro_objects import names
from pyro_objects.errors import SetupError, StartError
from pyro_objects.naming import answers, locate_ns
from pyro_objects.processes import Process, free_port, python, wait_until

HOST = "127.0.0.1"
START_TIMEOUT = 20.0


def web_answers(url: str) -> bool:
    """True when the web console at `url` answers its health check."""
    try:
        with urllib.request.urlopen(url + "api/health", timeout=1.0) as response:
            return response.status == 200
    except OSError:
        return False


class LocalSystem:
    """Starts processes with PYRO_* settings pointing at its own name server; stops them all.

    Use as a context manager: every process started is stopped on exit, also on failure.
    """

    def __init__(self, workdir: Path, ns_port: int | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ns_port = ns_port or free_port(HOST)
        self.processes: dict[str, Process] = {}
        self.env = {
            **os.environ,
            "PYRO_NS_HOST": HOST,
            "PYRO_NS_PORT": str(self.ns_port),
            "PYRO_HOST": HOST,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }

    def __enter__(self) -> LocalSystem:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    # --- processes ---------------------------------------------------------------------------

    def start(self, name: str, args: Sequence[str],
              ready: Callable[[], object] | None = None,
              registers: Sequence[str] = ()) -> Process:
        """Start `args` as process `name`, which registers `registers` in the name server;
        wait for `ready()` to be truthy if given."""
        if name in self.processes and self.processes[name].alive():
            raise StartError(f"{name} is already running (pid {self.processes[name].pid})")
        process = Process(name, args, self.env, self.workdir / f"{name}.log")
        process.names = tuple(registers)
        self.processes[name] = process
        if ready is not None:
            self.wait_ready(process, ready)
        return process

    def restart(self, name: str) -> Process:
        """Process `name` (which has exited) again, as it was started, its log appended to;
        not waited for."""
        before = self.processes[name]
        if before.alive():
            raise StartError(f"{name} is still running (pid {before.pid})")
        process = Process(name, before.args, self.env, before.log_path)
        process.names, process.url = before.names, before.url
        self.processes[name] = process
        return process

    def wait_ready(self, process: Process, ready: Callable[[], object]) -> None:
        def up() -> object:
            if not process.alive():
                raise StartError(f"{process.name} exited with code {process.popen.returncode}:\n"
                                 f"{process.log()}")
            return ready()

        try:
            wait_until(up, START_TIMEOUT, f"{process.name} to start")
        except TimeoutError as exc:
            raise StartError(f"{exc}; its log:\n{process.log()}") from None

    def stop(self, name: str) -> int:
        return self.processes.pop(name).stop()

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)

    # --- the name server and what is registered in it --------------------------------------

    def ns(self) -> Pyro4.Proxy:
        return locate_ns(HOST, self.ns_port)

    def registered(self, *names: str) -> bool:
        """True when every one of `names` is in the name server."""
        try:
            with self.ns() as ns:
                listed = ns.list()
        except (SetupError, Pyro4.errors.PyroError):
            return False
        return all(name in listed for name in names)

    def serving(self, *names: str) -> bool:
        """True when every one of `names` is registered and its object answers (unlike
        `registered`, not fooled by a stale entry from a killed predecessor)."""
        try:
            with self.ns() as ns:
                listed = ns.list()
        except (SetupError, Pyro4.errors.PyroError):
            return False
        return all(name in listed and answers(listed[name], timeout=1.0) for name in names)

    def start_nameserver(self, storage: str | None = None, *extra: str) -> Process:
        """The name server (what nameserver.sh runs) on this system's port; registrations
        kept in the work dir by default."""
        storage = storage or f"sql:{self.workdir / 'names.sqlite'}"
        args = python("-m", "pyro_objects.nameserver", "-n", HOST, "-p", str(self.ns_port),
                      "-s", storage, *extra)
        return self.start("nameserver", args, ready=self.registered,
                          registers=[Pyro4.constants.NAMESERVER_NAME])

    def start_server(self, *extra: str, name: str = "pyro_server",
                     names: Sequence[str] = (names.GREETING, names.COMPUTE)) -> Process:
        """pyro_server.py with `extra` arguments, ready once `names` are registered."""
        args = python("-m", "pyro_server", *extra)
        return self.start(name, args, ready=lambda: self.serving(*names), registers=names)

    def start_ring_node(self, ident: int, size: int, *extra: str) -> Process:
        """Ring node `ident` of `size`: the server_chain_K script for a 3-ring, else
        chain.server; ready once it has registered."""
        name = f"ring{ident}"
        if size == 3:
            args = python("-m", f"chain.server_chain_{ident}", *extra)
        else:
            args = python("-m", "chain.server", "--id", str(ident), "--ring", str(size), *extra)
        return self.start(name, args, ready=lambda: self.serving(node_name(ident)),
                          registers=[node_name(ident)])

    def start_ring(self, size: int = 3, *extra: str) -> None:
        for ident in range(1, size + 1):
            self.start_ring_node(ident, size, *extra)

    def start_worker(self, index: int, *extra: str) -> Process:
        """Compute worker `index` (python -m compute), ready once it has registered."""
        name, registered = f"worker{index}", f"{names.WORKER_PREFIX}{index}"
        args = python("-m", "compute", "--name", registered, *extra)
        return self.start(name, args, ready=lambda: self.serving(registered),
                          registers=[registered])

    def start_workers(self, count: int = 2, *extra: str) -> None:
        for index in range(1, count + 1):
            self.start_worker(index, *extra)

    def start_chat(self, *extra: str, name: str = names.CHAT, process: str = "chat") -> Process:
        """A chat server (pyro-objects chat) under `name`, as process `process`, its store
        in <workdir>/<process>; ready once it has registered."""
        args = python("-m", "pyro_objects.chat", "--name", name,
                      "--data", str(self.workdir / process), *extra)
        return self.start(process, args, ready=lambda: self.serving(name), registers=[name])

    def start_web(self, *extra: str, port: int | None = None, data: Path | None = None,
                  name: str = "web", host: str = HOST) -> Process:
        """The web console (pyro-objects web) on `host` (loopback), its database in `data`
        (default <workdir>/web); ready once it answers. Its URL is then web_url(name)."""
        port = port or free_port(HOST)
        data = data or self.workdir / "web"
        args = python("-m", "pyro_objects.web", "--host", host, "--port", str(port),
                      "--data", str(data), *extra)
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        process = self.start(name, args, ready=lambda: web_answers(url))
        process.url = url
        return process

    def web_url(self, name: str = "web") -> str:
        return self.processes[name].url

    def start_all(self) -> None:
        """Everything `make demo` and `make up` run."""
        self.start_nameserver()
        self.start_server()
        self.start_ring()
        self.start_workers()
        self.start_chat()
