"""Serving objects: a Pyro4 daemon whose names stay registered for as long as it runs."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import Pyro4
import Pyro4.errors

from pyro_objects import tls
from pyro_objects.config import hmac_key
from pyro_objects.errors import SetupError
from pyro_objects.naming import answers, locate_ns, unregister

log = logging.getLogger(__name__)

RECHECK_SECONDS = 2.0
KEEPER_JOIN_SECONDS = 10.0  # a check is a few name-server calls
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Registration:
    """One object to serve under `name`, with name-server metadata for lookups by kind."""

    name: str
    obj: object
    metadata: frozenset[str] = field(default_factory=frozenset)


class Server:
    """Serves registrations from one daemon and keeps their names in the name server.

    A name belongs to the server that registered it: starting a server whose name a live
    server owns fails (a dead owner's name is taken over); a periodic check re-registers names
    that went missing (a restarted or pruning name server); stop removes only names that still
    point here.
    """

    def __init__(
        self,
        registrations: Iterable[Registration],
        host: str | None = None,
        port: int = 0,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.registrations = list(registrations)
        self.host, self.port = host, port
        self.recheck_seconds = recheck_seconds
        self.uris: dict[str, Pyro4.URI] = {}
        self.daemon: Pyro4.Daemon | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lost: set[str] = set()   # names another server took (logged once)
        self._keeper: threading.Thread | None = None

    def start(self) -> dict[str, Pyro4.URI]:
        """Bind, claim every name and start serving in the background."""
        ns = locate_ns()
        try:
            self.daemon = Pyro4.Daemon(host=self.host, port=self.port)
            self.daemon._pyroHmacKey = hmac_key()
        except (OSError, Pyro4.errors.CommunicationError) as exc:
            where = f"{self.host or Pyro4.config.HOST}:{self.port}"
            raise SetupError(
                f"cannot listen on {where}: {exc}",
                "pick another --host/--port (port 0 chooses a free one)",
            ) from exc
        tls.warn_if_exposed(self.host if self.host is not None else Pyro4.config.HOST)
        uris = {reg.name: self.daemon.register(reg.obj, objectId=reg.name)
                for reg in self.registrations}
        self._spawn(self._serve, "requestloop")  # owners are probed while names are claimed
        try:
            with ns:
                for reg in self.registrations:
                    self._claim(ns, reg, uris[reg.name])
                    self.uris[reg.name] = uris[reg.name]
        except BaseException:
            self.stop()
            raise
        self._keeper = self._spawn(self._keep_registered, "registration-check")
        return self.uris

    def _claim(self, ns: Pyro4.Proxy, reg: Registration, uri: Pyro4.URI) -> None:
        """Register `reg` unless a live server owns its name; take over a dead owner's."""
        for _ in range(CLAIM_ATTEMPTS):
            try:
                ns.register(reg.name, uri, safe=True, metadata=reg.metadata)
                return
            except Pyro4.errors.NamingError:
                pass
            try:
                owner = ns.lookup(reg.name)
            except Pyro4.errors.NamingError:
                continue  # removed meanwhile: register again
            if str(owner) == str(uri):  # left by a dead predecessor on this very address
                ns.register(reg.name, uri, metadata=reg.metadata)
                return
            if answers(owner):
                raise SetupError(f"the name {reg.name} belongs to a running server at {owner}",
                                 "stop that server first, or serve under another name")
            log.warning("taking over %s from %s, which does not answer", reg.name, owner)
            unregister(ns, reg.name, owner)
        raise SetupError(f"could not register {reg.name}: other servers keep claiming it",
                         "start one server per name")

    def stop(self) -> None:
        """Remove our names (those still pointing to us) and shut the daemon down."""
        if self._stopping.is_set() or self.daemon is None:
            return
        self._stopping.set()
        if self._keeper is not None:  # a check under way could re-register after we remove
            self._keeper.join(timeout=KEEPER_JOIN_SECONDS)
        if self.uris:
            try:
                with locate_ns() as ns:
                    for name, uri in self.uris.items():
                        if unregister(ns, name, uri):
                            log.info("unregistered %s", name)
            except (SetupError, Pyro4.errors.PyroError) as exc:
                log.warning("could not unregister names: %s", exc)
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

    def _spawn(self, target, name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _serve(self) -> None:
        self.daemon.requestLoop(loopCondition=lambda: not self._stopping.is_set())

    def _keep_registered(self) -> None:
        ns = None
        while not self._stopping.wait(self.recheck_seconds):
            try:
                ns = ns or locate_ns()
                self._recheck(ns)
            except (SetupError, Pyro4.errors.PyroError) as exc:
                log.debug("name server check failed: %s", exc)
                ns = None
            except Exception:  # the keeper must outlive any surprise
                log.exception("name server check failed")
                ns = None

    def _recheck(self, ns: Pyro4.Proxy) -> None:
        """Re-register our names that are missing; leave alone those another server took."""
        registered = ns.list()
        for reg in self.registrations:
            name, uri = reg.name, str(self.uris[reg.name])
            if registered.get(name) == uri:
                self._lost.discard(name)
                continue
            if name in registered:
                if name not in self._lost:
                    self._lost.add(name)
                    log.error("%s now belongs to %s; leaving it to that server", name,
                              registered[name])
                continue
            try:
                ns.register(name, uri, safe=True, metadata=reg.metadata)
                log.warning("re-registered %s = %s", name, uri)
            except Pyro4.errors.NamingError:
                pass  # registered by another server since the list: found at the next check
