"""Pyro4 settings this project relies on, applied where the user set no PYRO_* variable."""

from __future__ import annotations

import logging
import os

import Pyro4

from pyro_objects import tls, transport

log = logging.getLogger(__name__)

# Why each default differs from Pyro4's own:
# - THREADPOOL_SIZE: Pyro4's 40 refuses the 41st concurrent connection; a ring node also
#   holds one thread per message in flight while it waits on its successor.
# - COMMTIMEOUT: Pyro4 waits forever by default; a dead peer must not hang anyone.
# - MAX_MESSAGE_SIZE: no peer may make us buffer an unbounded message. Replies may be large
#   (a name server listing 12,000 names of 100 characters sends 1.6 MB); requests, all small,
#   are refused above 1 MiB by the servers (transport.MAX_REQUEST_SIZE).
# - SERIALIZER (what this process's proxies send): json is faster than serpent, much more
#   so in batches (bench/RESULTS.md).
# - SERIALIZERS_ACCEPTED (what daemons take): json and serpent. Pyro4 also accepts marshal,
#   which Python documents as unsafe against malicious data; pickle stays refused.
# - ONEWAY_THREADED: Pyro4 runs each oneway call in a new thread outside the pool, and any
#   client may mark any method oneway: one connection could start unlimited threads. Here a
#   oneway call runs on its connection's own worker, in order, like a two-way call.
DEFAULTS = {
    "SERVERTYPE": "thread",
    "THREADPOOL_SIZE": 1000,
    "THREADPOOL_SIZE_MIN": 8,
    "COMMTIMEOUT": 30.0,
    "POLLTIMEOUT": 1.0,
    "MAX_MESSAGE_SIZE": 64 * 1024 * 1024,
    "SERIALIZER": "json",
    "SERIALIZERS_ACCEPTED": frozenset({"json", "serpent"}),
    "ONEWAY_THREADED": False,
}


def configure(identity: str = "server") -> None:
    """Apply DEFAULTS to Pyro4.config, except for settings given as PYRO_<NAME> variables,
    and switch mutual TLS on when TLS_DIR is set (`identity` names the certificate this
    process presents: "server" for servers, "client" for the client)."""
    for key, value in DEFAULTS.items():
        if "PYRO_" + key not in os.environ:
            setattr(Pyro4.config, key, value)
    if Pyro4.config.MAX_RETRIES:
        log.warning("ignoring PYRO_MAX_RETRIES=%s: a resent call may run twice; calls here "
                    "are sent at most once", Pyro4.config.MAX_RETRIES)
        Pyro4.config.MAX_RETRIES = 0
    if Pyro4.config.ONEWAY_THREADED:
        log.warning("ignoring PYRO_ONEWAY_THREADED=%s: a thread per oneway call is unbounded; "
                    "oneway calls run on their connection's worker", Pyro4.config.ONEWAY_THREADED)
        Pyro4.config.ONEWAY_THREADED = False
    Pyro4.config.THREADPOOL_SIZE_MIN = min(Pyro4.config.THREADPOOL_SIZE_MIN,
                                           Pyro4.config.THREADPOOL_SIZE)
    transport.install()
    if tls.enabled():
        tls.configure(identity)


def hmac_key() -> str | None:
    """PYRO_HMAC_KEY, which Pyro4's own pyro4-ns and pyro4-nsc read: when set, every daemon
    and proxy made here signs its messages with it, and a peer without it is refused."""
    return os.environ.get("PYRO_HMAC_KEY") or None


_ns_location: tuple[str | None, int | None] | None = None


def set_ns_location(host: str | None = None, port: int | None = None) -> None:
    """Decide, once, where this process finds the name server: `host`/`port` (from
    --ns-host/--ns-port) where given, else PYRO_NS_HOST/PYRO_NS_PORT.

    (None, None) when nothing is configured: Pyro4's own search, localhost first and then a
    broadcast on the LAN. A port given without a host means that port on PYRO_NS_HOST.
    """
    global _ns_location
    if port is None and "PYRO_NS_PORT" in os.environ:
        port = Pyro4.config.NS_PORT
    if host is None and ("PYRO_NS_HOST" in os.environ or port is not None):
        host = Pyro4.config.NS_HOST
    _ns_location = host, port


def ns_location() -> tuple[str | None, int | None]:
    """Where this process finds the name server (see set_ns_location)."""
    if _ns_location is None:
        set_ns_location()
    return _ns_location
