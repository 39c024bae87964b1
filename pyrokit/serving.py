"""Serving objects: a Pyro4 daemon whose names stay registered for as long as it runs."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import Pyro4
import Pyro4.errors

from pyrokit import tls
from pyrokit.errors import SetupError
from pyrokit.naming import locate_ns

log = logging.getLogger(__name__)

RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Registration:
    """One object to serve under `name`, with name-server metadata for lookups by kind."""

    name: str
    obj: object
    metadata: frozenset[str] = field(default_factory=frozenset)


class Server:
    """Serves registrations from one daemon and keeps their names in the name server.

    The names are registered at start, re-registered whenever a periodic check finds them
    missing or pointing elsewhere (a restarted name server), and removed at stop.
    """

    def __init__(
        self,
        registrations: Iterable[Registration],
        host: str | None = None,
        port: int = 0,
        ns_host: str | None = None,
        ns_port: int | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.registrations = list(registrations)
        self.host, self.port = host, port
        self.ns_host, self.ns_port = ns_host, ns_port
        self.recheck_seconds = recheck_seconds
        self.uris: dict[str, Pyro4.URI] = {}
        self.daemon: Pyro4.Daemon | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> dict[str, Pyro4.URI]:
        """Bind, register every object and start serving in the background."""
        ns = locate_ns(self.ns_host, self.ns_port)
        try:
            self.daemon = Pyro4.Daemon(host=self.host, port=self.port)
        except (OSError, Pyro4.errors.CommunicationError) as exc:
            where = f"{self.host or Pyro4.config.HOST}:{self.port}"
            raise SetupError(
                f"cannot listen on {where}: {exc}",
                "pick another --host/--port (port 0 chooses a free one)",
            ) from exc
        tls.warn_if_exposed(self.host if self.host is not None else Pyro4.config.HOST)
        for reg in self.registrations:
            self.uris[reg.name] = self.daemon.register(reg.obj, objectId=reg.name)
        with ns:
            for reg in self.registrations:
                ns.register(reg.name, self.uris[reg.name], metadata=reg.metadata)
        self._spawn(self._serve, "requestloop")
        self._spawn(self._keep_registered, "registration-check")
        return self.uris

    def stop(self) -> None:
        """Remove our names (where they still point to us) and shut the daemon down."""
        if self._stopping.is_set() or self.daemon is None:
            return
        self._stopping.set()
        try:
            with locate_ns(self.ns_host, self.ns_port) as ns:
                for name, uri in self.uris.items():
                    if _registered_uri(ns, name) == str(uri):
                        ns.remove(name)
                        log.info("unregistered %s", name)
        except (SetupError, Pyro4.errors.PyroError) as exc:
            log.warning("could not unregister names: %s", exc)
        if self.daemon is not None:
            self.daemon.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, printing each registered name and URI."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            for name, uri in self.start().items():
                print(f"registered {name} = {uri}", flush=True)
            while not stop.wait(timeout=1.0) and not self._stopping.is_set():
                pass
        finally:
            self.stop()

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _serve(self) -> None:
        self.daemon.requestLoop(loopCondition=lambda: not self._stopping.is_set())

    def _keep_registered(self) -> None:
        ns = None
        while not self._stopping.wait(self.recheck_seconds):
            try:
                ns = ns or locate_ns(self.ns_host, self.ns_port)
                for name, uri in self.uris.items():
                    if _registered_uri(ns, name) != str(uri):
                        metadata = next(r.metadata for r in self.registrations if r.name == name)
                        ns.register(name, uri, metadata=metadata)
                        log.warning("re-registered %s = %s", name, uri)
            except (SetupError, Pyro4.errors.CommunicationError) as exc:
                log.debug("name server check failed: %s", exc)
                ns = None


def _registered_uri(ns: Pyro4.Proxy, name: str) -> str | None:
    try:
        return str(ns.lookup(name))
    except Pyro4.errors.NamingError:
        return None
