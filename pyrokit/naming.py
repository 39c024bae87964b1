"""Finding the name server, with an error that says how to start one."""

from __future__ import annotations

import Pyro4
import Pyro4.errors

from pyrokit.config import ns_location
from pyrokit.errors import NameServerNotFound

START_HINT = (
    "start one with ./nameserver.sh, or point PYRO_NS_HOST/PYRO_NS_PORT "
    "(--ns-host/--ns-port) at a running one"
)


def describe(host: str | None, port: int | None) -> str:
    """Where the name server was looked for, for messages."""
    if host is None:
        return "localhost or by broadcast on the LAN"
    return f"{host}:{port or Pyro4.config.NS_PORT}"


def locate_ns(host: str | None = None, port: int | None = None) -> Pyro4.Proxy:
    """A bound proxy to the name server; raises NameServerNotFound with a hint."""
    host, port = ns_location(host, port)
    try:
        ns = Pyro4.locateNS(host=host, port=port)
    except Pyro4.errors.NamingError as exc:
        raise NameServerNotFound(
            f"no name server reachable at {describe(host, port)}", START_HINT
        ) from exc
    # Name-server metadata travels as sets, which json (the default for calls) cannot carry.
    ns._pyroSerializer = "serpent"
    return ns


def pyroname(name: str, host: str | None = None, port: int | None = None) -> str:
    """A PYRONAME: URI for `name` that resolves through the configured name server."""
    host, port = ns_location(host, port)
    if host is None:
        return f"PYRONAME:{name}"
    return f"PYRONAME:{name}@{host}:{port or Pyro4.config.NS_PORT}"
