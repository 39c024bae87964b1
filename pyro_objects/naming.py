"""Finding the name server (with an error that says how to start one), and who owns a name."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import Pyro4
import Pyro4.errors

from pyro_objects import tls
from pyro_objects.config import hmac_key, ns_location
from pyro_objects.errors import NameServerNotFound, SetupError, caused_by
from pyro_objects.proxy import Proxy

PROBE_TIMEOUT = 2.0     # seconds a live server takes at most to answer a connection
PROBES_AT_ONCE = 32     # addresses probed in parallel, by every prober of the registry
# What a call to a named object raises when the object is gone: not registered
# (NamingError), or refused, closed or timed out (CommunicationError).
UNREACHABLE = (Pyro4.errors.CommunicationError, Pyro4.errors.NamingError)

START_HINT = (
    "start one with pyro-objects nameserver, or point PYRO_NS_HOST/PYRO_NS_PORT "
    "(--ns-host/--ns-port) at a running one"
)


HMAC_HINT = ("give every process the name server's key in PYRO_HMAC_KEY (or unset it "
             "everywhere); see the README, 'Reliability'")


def describe(host: str | None, port: int | None) -> str:
    """Where the name server was looked for, for messages."""
    if host is None:
        return "localhost or by broadcast on the LAN"
    return f"{host}:{port or Pyro4.config.NS_PORT}"


def locate_ns(host: str | None = None, port: int | None = None) -> Pyro4.Proxy:
    """A bound proxy to the name server (the configured one unless `host`/`port` are given);
    raises NameServerNotFound with a hint."""
    if host is None and port is None:
        host, port = ns_location()
    try:
        ns = Pyro4.locateNS(host=host, port=port, hmac_key=hmac_key())
    except Pyro4.errors.NamingError as exc:
        if tls.handshake_failed(exc, (host, port or Pyro4.config.NS_PORT) if host else None):
            raise SetupError(f"the name server at {describe(host, port)} refused this "
                             f"process's certificate, or it refused the name server's",
                             tls.HANDSHAKE_HINT) from exc
        if caused_by(exc, Pyro4.errors.SecurityError):
            raise SetupError(f"the name server at {describe(host, port)} refused this "
                             f"process's messages: their PYRO_HMAC_KEY differs",
                             HMAC_HINT) from exc
        raise NameServerNotFound(
            f"no name server reachable at {describe(host, port)}", START_HINT
        ) from exc
    # Name-server metadata travels as sets, which json (the default for calls) cannot carry.
    ns._pyroSerializer = "serpent"
    return ns


def pyroname(name: str) -> str:
    """A PYRONAME: URI for `name` that resolves through the configured name server."""
    host, port = ns_location()
    if host is None:
        return f"PYRONAME:{name}"
    return f"PYRONAME:{name}@{host}:{port or Pyro4.config.NS_PORT}"


def answers(uri: str | Pyro4.URI, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when the daemon at `uri` answers and serves that object (a handshake, no call).

    A refused or silent address, and a daemon that has no such object (its port reused by
    another server), are all dead owners.
    """
    probe = Proxy(uri)
    probe._pyroTimeout = timeout
    try:
        probe._pyroBind()
        return True
    except (Pyro4.errors.CommunicationError, Pyro4.errors.DaemonError):
        return False
    finally:
        probe._pyroRelease()


def answering(uris: Mapping[str, str], timeout: float = PROBE_TIMEOUT) -> dict[str, str]:
    """The entries of {name: uri} whose objects answer, probed all at once."""
    if not uris:
        return {}
    with ThreadPoolExecutor(min(len(uris), PROBES_AT_ONCE)) as pool:
        alive = pool.map(lambda uri: answers(uri, timeout), uris.values())
        return {name: uri for (name, uri), up in zip(uris.items(), alive, strict=True) if up}


def unregister(ns: Pyro4.Proxy, name: str, uri: str | Pyro4.URI) -> bool:
    """Remove `name` only if it still points to `uri`; True if it was removed.

    Atomic with this project's name server (its `unregister`); with a stock Pyro4 name
    server, a lookup then a remove, which a takeover between the two could defeat.
    """
    try:
        return bool(ns.unregister(name, str(uri)))
    except AttributeError:  # a stock name server has no compare-and-remove
        pass
    try:
        if str(ns.lookup(name)) != str(uri):
            return False
    except Pyro4.errors.NamingError:
        return False
    return bool(ns.remove(name))
