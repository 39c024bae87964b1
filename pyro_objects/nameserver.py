"""Pyro4's name server, where a name belongs to a live server (run by nameserver.sh).

Three additions to Pyro4's own: only servers may change the registry (with TLS on, a server
certificate), `unregister(name, uri)` removes a name only while it still points to `uri`, and
a pruner removes names whose server has not accepted a connection for a grace period. Clients
need none of this: they use the name server as stock `pyro4-ns` users do.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import Pyro4
import Pyro4.constants
import Pyro4.errors
import Pyro4.naming

from pyro_objects import cli, tls
from pyro_objects.cli import fail
from pyro_objects.config import hmac_key
from pyro_objects.naming import PROBES_AT_ONCE
from pyro_objects.state import state_dir

log = logging.getLogger(__name__)

PRUNE_AFTER = 10.0         # seconds without a connection before a name is removed
MIN_PRUNE_AFTER = 1.0
CONNECT_TIMEOUT = 1.0


def storage(text: str) -> str:
    """argparse type: 'memory', 'sql:FILE' or 'dbm:FILE', as Pyro4's name server takes them."""
    if text != "memory" and not (text.startswith(("sql:", "dbm:")) and len(text) > 4):
        raise argparse.ArgumentTypeError(f"must be 'memory', 'sql:FILE' or 'dbm:FILE' "
                                         f"(got {text!r})")
    return text


def default_storage(host: str, port: int) -> str:
    """sql:<state dir>/names-<host>-<port>.sqlite."""
    return f"sql:{state_dir(f'names-{host}-{port}.sqlite')}"


@Pyro4.expose
class Registry(Pyro4.naming.NameServer):
    """Pyro4's NameServer, changed only by servers, with a compare-and-remove."""

    def register(self, name, uri, safe=False, metadata=None):
        tls.require_role("server", "registering a name")
        return super().register(name, uri, safe, metadata)

    def set_metadata(self, name, metadata):
        tls.require_role("server", "changing a name's metadata")
        return super().set_metadata(name, metadata)

    def remove(self, name=None, prefix=None, regex=None):
        tls.require_role("server", "removing names")
        return super().remove(name, prefix, regex)

    def unregister(self, name, uri):
        """Remove `name` if it is registered to `uri` (a string); 1 if removed, else 0."""
        tls.require_role("server", "removing a name")
        return self._remove_if(name, str(uri))

    def _remove_if(self, name: str, uri: str) -> int:
        """unregister without the role check, for this process (not exposed: a _name)."""
        with self.lock:
            try:
                current, _ = self.storage[name]
            except KeyError:
                return 0
            if current != uri or name == Pyro4.constants.NAMESERVER_NAME:
                return 0
            del self.storage[name]
            return 1


class NameServerDaemon(Pyro4.naming.NameServerDaemon):
    """Pyro4's name-server daemon serving a Registry."""

    def __init__(self, host: str, port: int, storage: str) -> None:
        super().__init__(host, port, storage=storage)
        self._pyroHmacKey = hmac_key()  # as pyro4-ns does: a client without the key is refused
        self.unregister(Pyro4.constants.NAMESERVER_NAME)
        self.nameserver = Registry(self.nameserver.storage)
        self.register(self.nameserver, Pyro4.constants.NAMESERVER_NAME)


def accepts_connections(location: tuple[str, int]) -> bool:
    try:
        socket.create_connection(location, timeout=CONNECT_TIMEOUT).close()
        return True
    except OSError:
        return False


class Pruner(threading.Thread):
    """Removes each name whose server has refused or ignored connections for `grace` seconds.

    Like Pyro4's NS_AUTOCLEAN, it only connects (no call), but it checks every address at
    once, so dead hosts do not add up, and removes a name only if it still points to the
    address found dead (not a server that took the name over meanwhile).
    """

    def __init__(self, registry: Registry, grace: float) -> None:
        super().__init__(name="pruner", daemon=True)
        self.registry, self.grace = registry, grace
        self.interval = min(2.0, grace / 4)
        self.silent: dict[str, tuple[str, float]] = {}   # name -> (uri, silent since)
        self.stopping = threading.Event()
        self.probes = ThreadPoolExecutor(PROBES_AT_ONCE, thread_name_prefix="probe")

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.check()
            except Exception:  # a failed round must not end the pruning
                log.exception("checking the registered names failed")

    def check(self) -> None:
        names = self.registry.list()
        names.pop(Pyro4.constants.NAMESERVER_NAME, None)
        locations = {name: _location(uri) for name, uri in names.items()}
        distinct = sorted({loc for loc in locations.values() if loc is not None})
        answered = dict(zip(distinct, self.probes.map(accepts_connections, distinct), strict=True))
        now = time.monotonic()
        for name in set(self.silent) - set(names):
            del self.silent[name]
        for name, uri in names.items():
            location = locations[name]
            if location is None or answered[location]:
                self.silent.pop(name, None)
                continue
            if self.silent.get(name, (None,))[0] != uri:
                self.silent[name] = (uri, now)
            since = self.silent[name][1]
            if now - since >= self.grace and self.registry._remove_if(name, uri):
                del self.silent[name]
                log.warning("removed %s = %s: its server has not answered for %.0f s",
                            name, uri, now - since)

    def stop(self) -> None:
        self.stopping.set()
        self.probes.shutdown(wait=False, cancel_futures=True)


def _location(uri: str) -> tuple[str, int] | None:
    try:
        parsed = Pyro4.URI(uri)
    except Pyro4.errors.PyroError:
        return None
    return (parsed.host, parsed.port) if parsed.host and parsed.port else None


def serve(host: str, port: int, storage: str, broadcast: bool, prune_after: float) -> None:
    """Run the name server until SIGINT/SIGTERM (what Pyro4's startNSloop does, plus pruning)."""
    daemon = NameServerDaemon(host, port, storage)
    bcserver = pruner = None
    try:
        address = daemon.sock.getsockname()[0]
        if broadcast and not tls.is_loopback(address) and daemon.sock.family == socket.AF_INET:
            uri = daemon.uriFor(daemon.nameserver, nat=False)
            bcserver = Pyro4.naming.BroadcastServer(uri)
            print(f"Broadcast server running on {bcserver.locationStr}", flush=True)
            bcserver.runInThread()
        if prune_after > 0:
            pruner = Pruner(daemon.nameserver, prune_after)
            pruner.start()
            print(f"names whose server does not answer for {prune_after:g} s are removed")
        if daemon._pyroHmacKey:
            print("clients must sign their messages with PYRO_HMAC_KEY")
        print(f"NS running on {daemon.locationStr} ({address})")
        print(f"URI = {daemon.uriFor(daemon.nameserver)}", flush=True)
        daemon.requestLoop()
    finally:
        if pruner is not None:
            pruner.stop()
        if bcserver is not None:
            bcserver.close()
        daemon.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = cli.Parser(prog="nameserver.sh",
                        description="Run Pyro4's name server in the foreground.")
    parser.add_argument("-n", "--host", default=Pyro4.config.NS_HOST,
                        help="interface to bind (default $PYRO_NS_HOST or localhost)")
    parser.add_argument("-p", "--port", type=cli.port, default=str(Pyro4.config.NS_PORT),
                        help="port to bind (default $PYRO_NS_PORT or 9090)")
    parser.add_argument("-s", "--storage", type=storage, default=os.environ.get("NS_STORAGE"),
                        help="'memory', 'sql:FILE' or 'dbm:FILE' (default $NS_STORAGE, else "
                             "sql:$XDG_STATE_HOME/pyro-objects/names-HOST-PORT.sqlite)")
    parser.add_argument("-x", "--no-broadcast", action="store_true",
                        help="do not answer broadcast lookups on the LAN")
    parser.add_argument("--prune-after", type=cli.non_negative,
                        default=os.environ.get("NS_PRUNE_AFTER", PRUNE_AFTER),
                        help="remove a name whose server has not accepted a connection for "
                             "this many seconds; 0: never (default $NS_PRUNE_AFTER or 10)")
    cli.add_log_option(parser)
    args = parser.parse_args(argv)
    if args.prune_after != 0 and not args.prune_after >= MIN_PRUNE_AFTER:
        parser.error(f"--prune-after (or NS_PRUNE_AFTER) must be 0 or at least "
                     f"{MIN_PRUNE_AFTER:g} seconds (got {args.prune_after:g})")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.setup(args)
    storage = args.storage or default_storage(args.host, args.port)
    if storage.startswith(("sql:", "dbm:")):
        Path(storage[4:]).parent.mkdir(parents=True, exist_ok=True)
    print(f"name server storage: {storage}", flush=True)
    tls.warn_if_exposed(args.host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(args.host, args.port, storage, not args.no_broadcast, args.prune_after)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"{args.host}:{args.port} is already in use (another name server?)",
                 "stop it, or use another port (-p PORT), and set "
                 "PYRO_NS_PORT=PORT for every other process")
        fail(f"cannot start the name server on {args.host}:{args.port}: {exc}",
             "check -n/--host names an address of this machine")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    cli.run(main)
