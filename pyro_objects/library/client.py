"""The Client: the system's objects found by name, called with proxies of each thread's own,
results typed, failures turned into pyro_objects.errors with hints."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import Pyro4
import Pyro4.errors

from chain import ring
from compute.arithmetic import OPERATIONS
from compute.coordinator import PiRun, check_request, run_pi
from pyro_objects import names, tls
from pyro_objects.errors import (
    NAMES_TOPIC,
    RING_TOPIC,
    NotRegistered,
    Refused,
    Unreachable,
    UsageError,
)
from pyro_objects.library.results import Hop, NameEntry, Ping, Posted, Round
from pyro_objects.naming import answers, locate_ns, pyroname
from pyro_objects.proxy import Proxy

UNREACHABLE_HINT = "its server has stopped or is unreachable; start it again and retry"
# What to do when a remote object raises one of these (others speak for themselves).
REMOTE_HINTS = {
    ConnectionError: ("start the ring node named (pyro-objects ring-node --id K --ring N)",
                      RING_TOPIC),
}
KINDS = tuple(names.KIND_LABELS)  # the metadata kinds `names(kind=...)` takes

# observer(command, ok, seconds): told of every call a Client makes (the console's metrics).
Observer = Callable[[str, bool, float], None]


class Client:
    """Calls to the system's objects, safe to share between threads.

    Each thread gets its own proxies (a Pyro4 proxy serialises its calls and belongs to one
    thread). `timeout` is what a call waits at most (None: PYRO_COMMTIMEOUT), `ring_timeout`
    the same for a message round the ring (default: `timeout`).
    """

    def __init__(self, timeout: float | None = None, ring_timeout: float | None = None,
                 observer: Observer | None = None) -> None:
        self.timeout = timeout
        self.ring_timeout = timeout if ring_timeout is None else ring_timeout
        self.observer = observer
        self._local = threading.local()

    # --- plumbing -------------------------------------------------------------------------

    def proxy(self, name: str) -> Pyro4.Proxy:
        """This thread's proxy for `name`, looked up once; it reconnects by name when needed."""
        proxies = self._local.__dict__.setdefault("proxies", {})
        if name not in proxies:
            proxy = Proxy(pyroname(name))
            timeout = self.ring_timeout if name.startswith(names.RING_PREFIX) else self.timeout
            if timeout is not None:
                proxy._pyroTimeout = timeout
            proxies[name] = proxy
        return proxies[name]

    def call(self, name: str, method: str, *args: object) -> object:
        """proxy(name).method(*args); every failure becomes one of pyro_objects.errors."""
        try:
            return getattr(self.proxy(name), method)(*args)
        except Pyro4.errors.NamingError as exc:
            self.resolve(name)  # raises NameServerNotFound or NotRegistered
            raise Unreachable(f"cannot find {name}: {exc}", UNREACHABLE_HINT,
                              NAMES_TOPIC) from exc
        except Pyro4.errors.TimeoutError as exc:
            raise Unreachable(
                f"{name} did not answer within {self.proxy(name)._pyroTimeout:g}s",
                "the server may be busy or stuck; retry, raise PYRO_COMMTIMEOUT, or restart it",
            ) from exc
        except Pyro4.errors.CommunicationError as exc:
            if tls.handshake_failed(exc):
                raise Unreachable(f"cannot reach {name}: {exc}", tls.HANDSHAKE_HINT) from exc
            raise Unreachable(f"cannot reach {name}: {exc}", UNREACHABLE_HINT,
                              NAMES_TOPIC) from exc
        except Pyro4.errors.PyroError:
            raise
        except Exception as exc:
            if not hasattr(exc, "_pyroTraceback"):  # raised here, not by the remote object
                raise
            raise Refused(str(exc), *REMOTE_HINTS.get(type(exc), ())) from exc

    def resolve(self, name: str) -> Pyro4.URI:
        """The URI registered for `name`; NameServerNotFound or NotRegistered with a hint."""
        with locate_ns() as ns:
            try:
                return ns.lookup(name)
            except Pyro4.errors.NamingError:
                raise NotRegistered(f"no object named {name!r} is registered in the name "
                                    f"server", "start the server that provides it",
                                    NAMES_TOPIC) from None

    @contextmanager
    def observed(self, command: str) -> Iterator[None]:
        """Tell the observer, if any, how a command went and how long it took."""
        if self.observer is None:
            yield
            return
        began, ok = time.perf_counter(), False
        try:
            yield
            ok = True
        finally:
            self.observer(command, ok, time.perf_counter() - began)

    # --- the greeting and compute objects -------------------------------------------------

    def greet(self, name: str) -> str:
        """The greeting object's welcome message for `name`."""
        with self.observed("greet"):
            return self.call(names.GREETING, "welcomeMessage", name)

    def operate(self, operation: str, a: int | float, b: int | float) -> int | float:
        """One of compute.arithmetic's OPERATIONS (add, sub, ...) on the compute object."""
        if operation not in OPERATIONS:
            raise UsageError(f"unknown operation {operation!r}; the operations are: "
                             f"{', '.join(OPERATIONS)}")
        with self.observed(operation):
            return self.call(names.COMPUTE, operation, a, b)

    def calc(self, expression: str) -> int | float:
        """`expression` evaluated by the compute object's safe evaluator."""
        with self.observed("calc"):
            return self.call(names.COMPUTE, "calc", expression)

    def pislice(self, a: int, b: int) -> float:
        """Σ (-1)ⁿ/(2n+1) for n in a..b-1, on the compute object."""
        with self.observed("pislice"):
            return self.call(names.COMPUTE, "pi_slice", a, b)

    def pi(self, terms: int, workers: int | None = None, slice_terms: int | None = None,
           **options: object) -> PiRun:
        """A distributed π run (compute.coordinator.run_pi; `options` are its progress,
        deadline, cancel and watch); bad arguments are a UsageError."""
        try:
            check_request(terms, workers, slice_terms)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        with self.observed("pi"):
            return run_pi(terms, workers=workers, slice_terms=slice_terms, **options)

    # --- the registry ---------------------------------------------------------------------

    def names(self, prefix: str | None = None, kind: str | None = None) -> list[NameEntry]:
        """The registered names, sorted: all, those starting with `prefix`, or those of one
        `kind` (metadata: one of KINDS)."""
        if prefix and kind:
            raise UsageError("give a prefix or a kind, not both")
        if kind is not None:
            check_kind(kind)
        with self.observed("list"), locate_ns() as ns:
            if kind:
                listed = ns.list(metadata_all={kind}, return_metadata=True)
            else:
                listed = ns.list(prefix=prefix or None, return_metadata=True)
        return [entry(name, uri, metadata) for name, (uri, metadata) in sorted(listed.items())]

    def lookup(self, name: str) -> NameEntry:
        """The registry's entry for `name`; NotRegistered if there is none."""
        with self.observed("lookup"), locate_ns() as ns:
            try:
                uri, metadata = ns.lookup(name, return_metadata=True)
            except Pyro4.errors.NamingError:
                raise NotRegistered(f"no object named {name!r} is registered in the name "
                                    f"server", "check the name", NAMES_TOPIC) from None
        return entry(name, str(uri), metadata)

    def ping(self, name: str, timeout: float | None = None) -> Ping:
        """Whether `name`'s object answers a handshake (no call), and the round trip in ms."""
        found = self.lookup(name)
        with self.observed("ping"):
            began = time.perf_counter()
            alive = answers(found.uri, timeout or self.timeout or 2.0)
            ms = round((time.perf_counter() - began) * 1e3, 3)
        return Ping(name, found.uri, alive, ms if alive else None)

    # --- chat -----------------------------------------------------------------------------

    def post(self, room: str, nick: str, text: str, message_id: str) -> Posted:
        """Post `text` to `room` as `nick` without joining, at most once for `message_id`
        (chat rooms' subscribers: pyro_objects.chat.subscriber)."""
        with self.observed("say"):
            posted = self.call(names.CHAT, "post_once", room, nick, text, message_id)
        try:
            return Posted(room, int(posted["seq"]), bool(posted["duplicate"]))
        except (TypeError, KeyError, ValueError):
            raise Refused(f"the chat server answered post_once with {str(posted)[:100]}",
                          "is example.chat this project's chat server?") from None

    # --- the ring -------------------------------------------------------------------------

    def chain(self, message: str = "hello", start: int = 1) -> Round:
        """`message` round the ring from node `start`: the route, hop by hop, timed."""
        if len(message) > ring.MAX_ITEM_CHARS:
            raise UsageError(f"the message must be at most {ring.MAX_ITEM_CHARS} characters "
                             f"(got {len(message)})")
        if isinstance(start, bool) or not isinstance(start, int) \
                or not 1 <= start <= names.MAX_RING_NODE:
            got = f"{start:.4g}" if type(start) is int and abs(start) < 10**40 else \
                ring.shown(start)  # as the console's API writes it: 2e+09
            raise UsageError(f"start must be from 1 to {names.MAX_RING_NODE:.4g} (got {got})")
        with self.observed("chain"):
            began = time.perf_counter()
            try:
                traced, lines = self.call(ring.node_name(start), "trace", [message]), False
            except AttributeError:  # Pyro4's: a node with only process() (its chain example)
                traced, lines = self.call(ring.node_name(start), "process", [message]), True
            ms = round((time.perf_counter() - began) * 1e3, 3)
        hops = hops_of(traced, lines)
        return Round(start, message, [hop.text for hop in hops], hops, ms)


def check_kind(kind: str) -> str:
    """`kind` if it is one of KINDS; UsageError naming them otherwise."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; the kinds are: {', '.join(KINDS)}")
    return kind


def entry(name: str, uri: object, metadata: object) -> NameEntry:
    """A NameEntry from what the name server lists."""
    tags = tuple(sorted(str(tag) for tag in metadata or ()))
    return NameEntry(name, str(uri), tags, names.kind_of(name, tags), names.is_invalid(name))


def hops_of(route: object, lines: bool = False) -> list[Hop]:
    """The Hops of a route a ring node returned (by process(), as `lines`); Refused if it is
    not one (a node that lies)."""
    try:
        checked = ring.check_route(ring.parse_route(route) if lines else route,
                                   ring.MAX_ROUTE_HOPS)
    except (TypeError, ValueError) as exc:
        raise Refused(f"a ring node returned a malformed route: {exc}",
                      "a node of the ring is not this project's; restart it",
                      RING_TOPIC) from None
    return [Hop(hop["step"], hop["node"], hop["ms"], ring.hop_text(hop)) for hop in checked]
