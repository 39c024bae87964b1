"""The registry as the overview shows it: every name, its kind and address, probed live.

A background thread lists the name server and probes every name (a handshake, no call) while
someone is looking, so a page reads the latest state at once and never waits on a slow or dead
object. Names that leave the registry stay listed as gone for a while, with since when. When the
name server does not answer (stopped, or hung: a listing waits LIST_TIMEOUT at most), nothing
is known: every name is unknown, with the state last known, until a listing succeeds again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, replace

import Pyro4
import Pyro4.errors

from pyro_objects import names
from pyro_objects.config import ns_location
from pyro_objects.errors import Error, Unreachable
from pyro_objects.naming import PROBES_AT_ONCE, answers, describe, locate_ns

log = logging.getLogger(__name__)

INTERVAL = 2.0            # seconds between rounds, at least
BUSY_SHARE = 0.25         # ... and a round's own time at most this share of the cycle
IDLE_AFTER = 60.0         # stop probing when nobody asked for this long
PROBE_TIMEOUT = 1.0
LIST_TIMEOUT = 1.5        # a listing (finding the name server, then list) waits this at most
FIRST_WAIT = 1.0          # how long a first look waits for the first listing
KEEP_GONE = 300.0         # seconds a name that left the registry is still shown


@dataclass(frozen=True)
class Entry:
    """One name: `state` is up, down (registered, not answering), gone (no longer
    registered), probing (not probed yet) or unknown (the name server does not answer);
    `since` is when it went down or gone; `last_state` is, when unknown, the state last known
    (`rtt_ms` and `since` are then that state's)."""

    name: str
    kind: str
    uri: str
    address: str
    metadata: tuple[str, ...]
    state: str = "probing"
    rtt_ms: float | None = None
    since: float | None = None
    last_state: str | None = None

    def unknown(self) -> Entry:
        """This entry when the name server does not answer."""
        return self if self.state == "unknown" else replace(self, state="unknown",
                                                            last_state=self.state)

    def known(self) -> Entry:
        """This entry as last known (itself unless unknown)."""
        return self if self.state != "unknown" else replace(self, state=self.last_state,
                                                            last_state=None)


@dataclass(frozen=True)
class Snapshot:
    nameserver: str             # where the name server is looked for
    nameserver_uri: str | None  # its address, once found
    tls: bool
    entries: tuple[Entry, ...]
    updated: float | None       # when the last round that listed finished (Unix time)
    error: str | None = None    # why the name server could not be listed, if it could not
    hint: str | None = None

    def as_dict(self) -> dict:
        return {"nameserver": {"location": self.nameserver, "uri": self.nameserver_uri,
                               "tls": self.tls},
                "names": [asdict(entry) for entry in self.entries],
                "updated": self.updated, "error": self.error, "hint": self.hint}


def address_of(uri: str) -> str:
    try:
        return Pyro4.URI(uri).location or ""
    except Pyro4.errors.PyroError:
        return ""


def list_registry(timeout: float = LIST_TIMEOUT) -> tuple[str, dict[str, tuple[str, list]]]:
    """The name server's URI and {name: (uri, metadata)}; Error when it is not reachable."""
    with locate_ns() as ns:
        ns._pyroTimeout = timeout
        return str(ns._pyroUri), ns.list(return_metadata=True)


def probe(uri: str, timeout: float = PROBE_TIMEOUT) -> float | None:
    """Round-trip ms of a handshake with the object at `uri`; None when it does not answer."""
    began = time.perf_counter()
    if answers(uri, timeout):
        return (time.perf_counter() - began) * 1e3
    return None


class Registry:
    """Keeps a Snapshot of the registry fresh while someone reads it; `snapshot()` is instant."""

    def __init__(self, interval: float = INTERVAL, idle_after: float = IDLE_AFTER,
                 lister: Callable[[], tuple[str, dict]] = list_registry,
                 prober: Callable[[str], float | None] = probe,
                 list_timeout: float = LIST_TIMEOUT) -> None:
        self.interval, self.idle_after, self.list_timeout = interval, idle_after, list_timeout
        self._list, self._probe = lister, prober
        self._listing: Future | None = None  # the listing in flight (one at most)
        host, port = ns_location()
        self._snapshot = Snapshot(describe(host, port), None, bool(Pyro4.config.SSL), (), None)
        self._lock = threading.Lock()
        self._listed = threading.Condition(self._lock)
        self._asked = 0.0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(PROBES_AT_ONCE, thread_name_prefix="probe")

    def snapshot(self, wait: float = FIRST_WAIT) -> Snapshot:
        """The latest state; wakes the watcher if it was idle and, the first time, waits up to
        `wait` seconds for a first listing."""
        with self._lock:
            self._asked = time.monotonic()
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._watch, name="registry",
                                                daemon=True)
                self._thread.start()
            if not self._seen():
                self._listed.wait_for(self._seen, wait)
            return self._snapshot

    def _seen(self) -> bool:
        """Whether the name server was listed, or found missing, at least once."""
        return self._snapshot.nameserver_uri is not None or self._snapshot.error is not None

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                self._round()
            except Exception:
                log.exception("registry round failed")
            spent = time.monotonic() - began
            with self._lock:
                if time.monotonic() - self._asked > self.idle_after:
                    self._thread = None  # idle: the next snapshot() starts a new watcher
                    return
            self._stopping.wait(max(self.interval, spent / BUSY_SHARE - spent))

    def _list_within_timeout(self) -> tuple[str, dict]:
        """The lister's answer within `list_timeout`, else Unreachable. A listing that hangs
        (a stopped name server accepts connections and never answers) runs on in its own
        thread, and the next round waits for it again rather than start another."""
        if self._listing is None:
            listing: Future = Future()

            def run() -> None:
                try:
                    listing.set_result(self._list())
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting round
                    listing.set_exception(exc)

            self._listing = listing
            threading.Thread(target=run, name="registry-list", daemon=True).start()
        try:
            return self._listing.result(self.list_timeout)
        except FutureTimeout:
            raise Unreachable(f"the name server at {self._snapshot.nameserver} did not answer "
                              f"within {self.list_timeout:g}s",
                              "is it stopped or overloaded? The console lists it again "
                              "every few seconds") from None
        finally:
            if self._listing.done():
                self._listing = None

    def _round(self) -> None:
        try:
            ns_uri, listed = self._list_within_timeout()
        except (Error, Pyro4.errors.PyroError, OSError) as exc:
            hint = (getattr(exc, "hint", "")
                    or "is the name server running? (pyro-objects nameserver)")
            self._publish(replace(self._snapshot, error=str(exc), hint=hint,
                                  entries=tuple(e.unknown() for e in self._snapshot.entries)))
            return
        now = time.time()
        previous = {entry.name: entry.known() for entry in self._snapshot.entries}
        current = [self._carry(previous.get(name), name, uri, metadata)
                   for name, (uri, metadata) in sorted(listed.items())]
        gone = [entry if entry.state == "gone" else replace(entry, state="gone", rtt_ms=None,
                                                             since=now)
                for name, entry in previous.items() if name not in listed]
        gone = [entry for entry in gone if now - (entry.since or now) < KEEP_GONE]
        # The listing first (a first look needs no probe), then the probes.
        self._publish(replace(self._snapshot, nameserver_uri=ns_uri, error=None, hint=None,
                              entries=tuple(sorted(current + gone, key=lambda e: e.name))))
        rtts = list(self._pool.map(self._probe, [entry.uri for entry in current]))
        now = time.time()
        probed = [self._probed(entry, rtt, now) for entry, rtt in zip(current, rtts, strict=True)]
        self._publish(replace(self._snapshot, updated=now,
                              entries=tuple(sorted(probed + gone, key=lambda e: e.name))))

    @staticmethod
    def _carry(before: Entry | None, name: str, uri: str, metadata: list) -> Entry:
        entry = Entry(name, names.kind_of(name, metadata), uri, address_of(uri),
                      tuple(sorted(metadata)))
        if before is None or before.uri != uri or before.state == "gone":
            return entry
        return replace(entry, state=before.state, rtt_ms=before.rtt_ms, since=before.since)

    @staticmethod
    def _probed(entry: Entry, rtt: float | None, now: float) -> Entry:
        if rtt is not None:
            return replace(entry, state="up", rtt_ms=round(rtt, 3), since=None)
        since = entry.since if entry.state == "down" else now
        return replace(entry, state="down", rtt_ms=None, since=since)

    def _publish(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._listed.notify_all()
