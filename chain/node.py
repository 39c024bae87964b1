"""A ring node: Pyro4's chain example, with timeouts, self-healing and a hop limit."""

from __future__ import annotations

import logging
import threading
import time

import Pyro4
import Pyro4.errors

from chain import ring
from pyro_objects import names
from pyro_objects.errors import SetupError
from pyro_objects.naming import UNREACHABLE, answers, locate_ns, pyroname
from pyro_objects.proxy import Proxy

log = logging.getLogger(__name__)

DEFAULT_HOP_TIMEOUT = 2.0
DEAD_SECONDS = 5.0  # a node that failed is skipped this long unless it re-registers
PROBE_SECONDS = 1.0  # to tell a hung node from a live one waiting on a hung node


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class ChainNode:
    """Appends its name to a message and forwards it to its successor; the node that finds
    its own name already in the message closes the circle. The route comes back as
    ["passed on from 1", "passed on from 2", "passed on from 3", "complete at 1"] from
    process(), the tutorial's method, and with each hop's time from trace().
    """

    def __init__(self, ident: int, size: int, successor: str | None = None, heal: bool = True,
                 hop_timeout: float = DEFAULT_HOP_TIMEOUT,
                 max_hops: int = ring.DEFAULT_MAX_HOPS) -> None:
        self.ident, self.size = ident, size
        self.name = ring.node_name(ident)
        self.successor = successor or ring.node_name(ring.successor(ident, size))
        self.heal, self.hop_timeout, self.max_hops = heal, hop_timeout, max_hops
        self.route_limit = ring.route_limit(max_hops)  # the most hops a successor may return
        # One proxy per worker thread: a Pyro4 proxy serialises its calls, and messages
        # going round concurrently would otherwise wait on each other around the ring.
        self._local = threading.local()
        self._dead: dict[str, tuple[str, float]] = {}  # name -> (uri, failed at)

    def process(self, message):
        """Forward `message` (a list of strings) around the ring; returns the route."""
        return [ring.hop_text(hop) for hop in self.trace(message)]

    def trace(self, message):
        """Like process(), the route as hops: [{"step", "node", "ms"}, ...], each with the
        milliseconds from the message reaching that node to its answer leaving it, so a
        passed hop's ms includes every node after it. A skipped node's ms is the time spent
        trying it, None if it was not tried (known dead, or not registered); None too for
        the hops of a node that has only process(). Nodes forward by trace(), and by
        process() to a node without it."""
        began = time.perf_counter()
        message = ring.check_message(message, self.max_hops)
        if self.name in message:
            log.debug("message came back to %s: circle complete", self.ident)
            return [ring.hop("complete", self.ident, 0.0)]
        # Per-message lines are DEBUG (--log-level DEBUG): at INFO they slow every hop.
        log.debug("node %s passing the message on to %s", self.ident, self.successor)
        route = self._forward(message + [self.name])
        return [ring.hop("passed", self.ident, (time.perf_counter() - began) * 1e3), *route]

    def _forward(self, message: list[str]) -> list[dict]:
        # Nodes further along wait less, so the node nearest a failure reports it; one
        # route-around fits in the same budget again (see budget()).
        wait = self.hop_timeout * max(1, self.size - ring.hops(message) + 1)
        deadline = time.monotonic() + 2 * wait
        failure, tried = None, None  # tried: ms spent on the successor before it failed
        skipped: list[dict] = []
        if self.successor not in self._dead:
            began = time.perf_counter()
            try:
                return self._send(self.successor, message, wait)
            except UNREACHABLE as exc:
                if not self.heal:
                    raise self._unreachable(self.successor, exc, wait) from None
                failure = exc
                if not isinstance(exc, Pyro4.errors.NamingError):  # else never contacted
                    tried = (time.perf_counter() - began) * 1e3
        registered = self._registered_nodes()
        if failure is not None:
            self._judge(self.successor, registered.get(self.successor), failure, wait)
        for candidate in self._ring_from(self.successor):
            if candidate == self.name:
                return [*skipped, *self.trace(message)]
            uri = registered.get(candidate)
            if uri is None or self._known_dead(candidate, uri):
                skipped.append(self._skip(candidate,
                                          tried if candidate == self.successor else None))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            began = time.perf_counter()
            try:
                route = self._send(candidate, message, min(wait, remaining))
            except UNREACHABLE as exc:
                self._judge(candidate, uri, exc, min(wait, remaining))
                skipped.append(self._skip(candidate, (time.perf_counter() - began) * 1e3))
                continue
            self._dead.pop(candidate, None)
            return [*skipped, *route]
        raise self._unreachable(self.successor, f"no live node answered within "
                                f"{2 * wait:g} s", wait)

    def _send(self, name: str, message: list[str], timeout: float) -> list[dict]:
        proxies = self._local.__dict__.setdefault("proxies", {})
        proxy = proxies.get(name)
        if proxy is None:
            proxy = proxies[name] = Proxy(pyroname(name))
        if proxy._pyroTimeout != timeout:  # setting it costs system calls on every message
            proxy._pyroTimeout = timeout
        try:
            # Pyro4 checks here what the object exposes: trace(), else process() (Pyro4's own
            # chain example, or a node from before trace()); a live object with neither is
            # no ring node, and one whose reply is no route is broken: both taken for dead.
            trace = getattr(proxy, "trace", None)
            process = None if trace is not None else getattr(proxy, "process", None)
            if trace is None and process is None:
                raise Pyro4.errors.CommunicationError(f"{name} is not a ring node")
            reply = trace(message) if trace is not None else process(message)
            try:
                route = reply if trace is not None else ring.parse_route(reply)
                return ring.check_route(route, self.route_limit)
            except (TypeError, ValueError) as exc:
                raise Pyro4.errors.CommunicationError(
                    f"{name} returned a malformed route: {exc}") from None
        except UNREACHABLE:
            proxy._pyroRelease()
            del proxies[name]  # a restarted node is looked up afresh next time
            raise

    def _judge(self, name: str, uri: str | None, exc: Exception, waited: float) -> None:
        """After `name` failed to return a message: route around it if it is dead; raise if
        it is alive (it answers a handshake) and only slow because a node after it is."""
        if isinstance(exc, Pyro4.errors.TimeoutError) and uri is not None and answers(
                uri, timeout=min(PROBE_SECONDS, self.hop_timeout)):
            raise ConnectionError(
                f"ring node {name} answers but did not return the message from node "
                f"{self.ident} within {waited:g} s: a node after it is slow or hung") from None
        log.warning("node %s: %s is unreachable or broken (%s); routing around it", self.ident,
                    name, exc)
        if uri is not None:  # unregistered names are skipped anyway
            self._dead[name] = (uri, time.monotonic())

    def _known_dead(self, name: str, uri: str) -> bool:
        """Whether `name`, registered to `uri`, failed lately: skip it without waiting.

        A node that failed is skipped for DEAD_SECONDS, or until its name points to a new
        address (a restarted node), then tried again.
        """
        failed = self._dead.get(name)  # shared by the worker threads: get and pop only
        if failed is None:
            return False
        dead_uri, since = failed
        if dead_uri != uri or time.monotonic() - since > DEAD_SECONDS:
            self._dead.pop(name, None)
            return False
        return True

    def _registered_nodes(self) -> dict[str, str]:
        """{name: uri} of the ring nodes in the name server."""
        try:
            with locate_ns() as ns:
                return ns.list(prefix=ring.PREFIX)
        except (SetupError, Pyro4.errors.PyroError) as exc:
            reason = f"and the name server is not answering: {exc}"
            raise self._unreachable(self.successor, reason, 0) from None

    def _ring_from(self, first: str) -> list[str]:
        """Ring node names in forwarding order from `first`, ending with this node."""
        start = names.ring_node_id(first) or ring.successor(self.ident, self.size)
        return [ring.node_name(i) for i in ring.ring_order(start - 1, self.size)]

    @staticmethod
    def _skip(name: str, ms: float | None) -> dict:
        return ring.hop("skipped", names.ring_node_id(name) or name, ms)

    def _unreachable(self, name: str, reason: object, waited: float) -> ConnectionError:
        if isinstance(reason, Pyro4.errors.TimeoutError):
            reason = f"no answer within {waited:g} s"
        return ConnectionError(f"ring node {name} could not be reached from node "
                               f"{self.ident}: {reason}")


def budget(size: int, hop_timeout: float) -> float:
    """The longest a message may take round a ring of `size`: the first node waits
    `hop_timeout` per node ahead, twice at most (its successor, then one route-around)."""
    return 2 * hop_timeout * size
