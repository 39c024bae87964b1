"""A ring node: Pyro4's chain example, with timeouts, self-healing and a hop limit."""

from __future__ import annotations

import logging
import threading

import Pyro4
import Pyro4.errors

from chain import ring
from pyrokit.errors import SetupError
from pyrokit.naming import locate_ns, pyroname
from pyrokit.proxy import Proxy

log = logging.getLogger(__name__)

DEFAULT_HOP_TIMEOUT = 2.0
# Not registered (NamingError), refused, closed or timed out (CommunicationError).
UNREACHABLE = (Pyro4.errors.CommunicationError, Pyro4.errors.NamingError)


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class ChainNode:
    """Appends its name to a message and forwards it to its successor; the node that finds
    its own name already in the message closes the circle. The route comes back as
    ["passed on from 1", "passed on from 2", "passed on from 3", "complete at 1"].
    """

    def __init__(self, ident: int, size: int, successor: str | None = None, heal: bool = True,
                 hop_timeout: float = DEFAULT_HOP_TIMEOUT, max_hops: int = ring.DEFAULT_MAX_HOPS,
                 ns_host: str | None = None, ns_port: int | None = None) -> None:
        self.ident, self.size = ident, size
        self.name = ring.node_name(ident)
        self.successor = successor or ring.node_name(ring.successor(ident, size))
        self.heal, self.hop_timeout, self.max_hops = heal, hop_timeout, max_hops
        self.ns_host, self.ns_port = ns_host, ns_port
        # One proxy per worker thread: a Pyro4 proxy serialises its calls, and messages
        # going round concurrently would otherwise wait on each other around the ring.
        self._local = threading.local()

    def process(self, message):
        """Forward `message` (a list of strings) around the ring; returns the route."""
        message = ring.check_message(message, self.max_hops)
        if self.name in message:
            log.debug("message came back to %s: circle complete", self.ident)
            return [f"complete at {self.ident}"]
        # Per-message lines are DEBUG (--log-level DEBUG): at INFO they cost ~15% per hop.
        log.debug("node %s passing the message on to %s", self.ident, self.successor)
        return [f"passed on from {self.ident}", *self._forward(message + [self.name])]

    def _forward(self, message: list[str]) -> list[str]:
        try:
            return self._send(self.successor, message)
        except UNREACHABLE as exc:
            if not self.heal:
                raise self._unreachable(self.successor, exc) from None
            log.warning("node %s: %s is unreachable (%s); routing around it", self.ident,
                        self.successor, exc)
        skipped = [self.successor]
        for candidate in self._live_nodes_after(self.successor):
            if candidate == self.name:
                return [*self._skips(skipped), *self.process(message)]
            try:
                return [*self._skips(skipped), *self._send(candidate, message)]
            except UNREACHABLE as exc:
                log.warning("node %s: %s is unreachable too (%s)", self.ident, candidate, exc)
                skipped.append(candidate)
        raise self._unreachable(self.successor, "no live node left in the ring")

    def _send(self, name: str, message: list[str]) -> list[str]:
        proxies = self._local.__dict__.setdefault("proxies", {})
        proxy = proxies.get(name)
        if proxy is None:
            proxy = proxies[name] = Proxy(pyroname(name, self.ns_host, self.ns_port))
        # Nodes further along time out first, so an error names the node that failed.
        timeout = self.hop_timeout * max(1, self.size - ring.hops(message) + 1)
        if proxy._pyroTimeout != timeout:  # setting it costs system calls on every message
            proxy._pyroTimeout = timeout
        try:
            return proxy.process(message)
        except UNREACHABLE:
            proxy._pyroRelease()
            del proxies[name]  # a restarted node is looked up afresh next time
            raise

    def _live_nodes_after(self, failed: str) -> list[str]:
        """Registered ring nodes in ring order after `failed`, ending with this node."""
        try:
            with locate_ns(self.ns_host, self.ns_port) as ns:
                registered = set(ns.list(prefix=ring.PREFIX))
        except (SetupError, Pyro4.errors.PyroError) as exc:
            reason = f"and the name server is not answering: {exc}"
            raise self._unreachable(failed, reason) from None
        start = ring.node_id(failed) or self.ident
        order = [ring.node_name(i) for i in ring.ring_order(start, self.size)]
        return [name for name in order if name in registered and name != failed]

    def _skips(self, names: list[str]) -> list[str]:
        return [f"skipped {ring.node_id(name) or name}" for name in names]

    def _unreachable(self, name: str, reason: object) -> ConnectionError:
        return ConnectionError(f"ring node {name} could not be reached from node {self.ident} "
                               f"within {self.hop_timeout:g}s per hop: {reason}")
