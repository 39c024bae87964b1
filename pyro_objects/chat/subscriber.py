"""A chat subscriber: a callback object served by its own Pyro4 daemon in a background
thread, heartbeats, and rejoining by name (with `since`) after a drop or a chat-server restart.

    subscriber = Subscriber("lobby", "ana", print)   # print gets each event (a dict)
    subscriber.join()
    subscriber.say("hello")
    subscriber.leave()

A failed `say` that never_sent(exc) certainly did not post; any other may have.

Events reach `on_event` in order, each once: the history the join returned, then what the
chat server delivers. Besides the service's events (see chat.room) the subscriber adds one of
its own: {"kind": "entered", "room", "nick", "who", "rejoined", "restarted"} before each
join's history.
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import Pyro4
import Pyro4.errors

from pyro_objects import config, names, tls
from pyro_objects.chat import peers, rules
from pyro_objects.chat.delivery import BATCH
from pyro_objects.naming import UNREACHABLE, pyroname
from pyro_objects.proxy import Proxy

log = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0
LEAVE_TIMEOUT = 2.0
DEFAULT_HEARTBEAT = 2.5

Call = Callable[..., object]


@contextmanager
def main_thread_signals() -> Iterator[None]:
    """Threads started inside the block (and the threads they start) never take SIGINT or
    SIGTERM, so Ctrl-C interrupts the main thread wherever it waits. Linux hands a process's
    signal to its main thread first anyway; other systems may pick any thread, and then a
    main thread blocked in select() would not notice."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class ServerCallersOnly(Pyro4.Daemon):
    """A Pyro4 daemon that, under TLS, accepts connections only from callers presenting a
    server certificate (the chat server): any other certificate of our CA is refused at
    connect, before any call."""

    def validateHandshake(self, conn, data):
        if Pyro4.config.SSL:
            role = peers.subject_of(conn.sock).get("organizationalUnitName")
            if role != "server":
                raise PermissionError(f"only the chat server may call a subscriber back (the "
                                      f"caller presented OU={role}, not OU=server)")
        return super().validateHandshake(conn, data)


class CallbackDaemon:
    """One Pyro4 daemon per process, serving its subscribers' callback objects from a
    background thread, bound to `host` (default PYRO_HOST): the chat server must reach it."""

    def __init__(self, host: str | None = None) -> None:
        peers.serve_callbacks_over_tls()
        # A subscriber's deliveries arrive on one connection: run them one after the other,
        # in order, instead of a thread each.
        Pyro4.config.ONEWAY_THREADED = False
        with main_thread_signals():  # its worker threads too: they start with the daemon
            self.daemon = ServerCallersOnly(host=host, interface=CallbackDaemonObject)
            self.daemon._pyroHmacKey = config.hmac_key()  # the chat server signs with it too
            self._thread = threading.Thread(target=self.daemon.requestLoop, name="callbacks",
                                            daemon=True)
            self._thread.start()

    def register(self, obj: object) -> Pyro4.URI:
        return self.daemon.register(obj)

    def unregister(self, obj: object) -> None:
        try:
            self.daemon.unregister(obj)
        except Pyro4.errors.DaemonError:
            pass

    def close(self) -> None:
        self.daemon.shutdown()
        self._thread.join(timeout=5)


@Pyro4.expose
class CallbackDaemonObject:
    """What a callback daemon answers as `Pyro.Daemon`: only the metadata the chat server's
    proxy asks for when it connects (a plain daemon also lists every object it serves)."""

    def __init__(self, daemon: Pyro4.Daemon) -> None:
        self.daemon = daemon

    def get_metadata(self, objectId, as_lists=False):  # noqa: N803 - Pyro4's signature
        return Pyro4.core.DaemonObject.get_metadata(self, objectId, as_lists)


def never_sent(exc: BaseException) -> bool:
    """Whether a failed call certainly did not reach the object: its name could not be
    looked up, or no connection to it could be made. A connection lost or timed out during
    the call may have carried it."""
    return isinstance(exc, Pyro4.errors.NamingError) or type(
        exc) is Pyro4.errors.CommunicationError


DELIVERED_KINDS = frozenset({"message", "joined", "left", "dropped"})


def well_formed(event: object) -> bool:
    """Whether `event` is one the chat server delivers (see chat.room), fields typed."""
    if not isinstance(event, dict) or event.get("kind") not in DELIVERED_KINDS:
        return False
    fields = {"room": str, "nick": str, "time": (int, float)}
    if event["kind"] == "message":
        fields.update(seq=int, text=str)
    return all(isinstance(event.get(name), kind) and not isinstance(event.get(name), bool)
               for name, kind in fields.items())


@Pyro4.expose
class Inbox:
    """The callback object of one join: the chat server calls `deliver` on it, with the key
    the join gave it."""

    def __init__(self, subscriber: Subscriber, key: str) -> None:
        self.subscriber = subscriber
        self.key = key
        self.received = 0  # events numbered up to this one have arrived

    @Pyro4.oneway
    def deliver(self, first, events, key=None):
        """Events numbered first, first + 1, ...; those seen already (a batch sent again
        after a failure) are skipped. Refused, changing nothing: without this join's key,
        from a caller without a server certificate (under TLS), ill-formed, or numbered
        beyond what the chat server could have sent. Never raises: Pyro4 would close the
        connection, and a oneway caller sees nothing anyway."""
        try:
            tls.require_role("server", "delivering chat events")
            if not isinstance(key, str) or not secrets.compare_digest(key, self.key):
                raise PermissionError("deliver needs the key its join gave the chat server")
            if not isinstance(first, int) or isinstance(first, bool) or first < 1:
                raise ValueError(f"first must be an integer >= 1 (got {rules.shown(first)})")
            if not isinstance(events, list) or not 1 <= len(events) <= BATCH or not all(
                    map(well_formed, events)):
                raise ValueError(f"events must be a list of 1 to {BATCH} chat events")
            self.subscriber._arrived(self, first, events)
        except (PermissionError, ValueError) as exc:
            log.warning("refused chat events: %s", exc)
        except Exception:  # a broken delivery must not end the connection
            log.exception("handling chat events failed")


class Subscriber:
    """A member of one chat room, as `nick`, on the chat server registered as `server`."""

    def __init__(self, room: str, nick: str, on_event: Callable[[dict], None],
                 server: str = names.CHAT, daemon: CallbackDaemon | None = None) -> None:
        self.room, self.nick = rules.check_room(room), rules.check_nick(nick)
        self.on_event = on_event
        self.daemon = daemon or CallbackDaemon()
        self._own_daemon = daemon is None
        self.proxy = Proxy(pyroname(server))
        self.proxy._pyroTimeout = CALL_TIMEOUT
        self.token: str | None = None
        self.epoch: str | None = None
        self.last_seq: int | None = None   # the last message seen, for `since` on rejoining
        self.present: set[str] = set()
        self.heartbeat = DEFAULT_HEARTBEAT
        self._inbox: Inbox | None = None
        self._ready = False                # the join's reply is handled: events go out
        self._pending: list[dict] = []     # events delivered before that
        self._events = threading.Condition()
        self._session = threading.RLock()  # one join at a time
        self._stopping = threading.Event()
        self._beating: threading.Thread | None = None

    # --- what users call --------------------------------------------------------------------

    def join(self, call: Call | None = None) -> dict:
        """Join the room (raising as the remote call does) and start the heartbeat; returns
        the service's reply. `call(method, *args)`, if given, makes the remote call."""
        reply = self._join(call)
        if self._beating is None:
            self._beating = threading.Thread(target=self._beat, name=f"heartbeat {self.nick}",
                                             daemon=True)
            with main_thread_signals():
                self._beating.start()
        return reply

    def say(self, text: str, message_id: str | None = None) -> int:
        """Post `text`; returns its sequence number. After a lost connection or session it
        rejoins and sends again with the same message id, so the message is posted once;
        a caller that retries gives the same `message_id` (default: a new one)."""
        text = rules.check_text(text)
        message_id = uuid.uuid4().hex if message_id is None else rules.check_id(
            message_id, "message_id")
        token = self._live_token()
        try:
            return self.proxy.say(token, text, message_id)
        except (LookupError, *UNREACHABLE) as first:
            try:
                self._recover()
                return self.proxy.say(self._live_token(), text, message_id)
            except UNREACHABLE as again:
                if never_sent(again) and not (isinstance(first, LookupError) or
                                              never_sent(first)):
                    raise first from None  # the first try may have posted it
                raise

    def who(self) -> list[str]:
        return self.proxy.who(self.room)

    def rooms(self) -> list[dict]:
        """The chat server's rooms with people in them: [{"room", "people"}]."""
        return self.proxy.list_rooms()

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Wait until message `seq` (or a later one) has been handed to on_event."""
        with self._events:
            return self._events.wait_for(
                lambda: self.last_seq is not None and self.last_seq >= seq, timeout)

    def leave(self) -> None:
        """Leave the room (as far as the chat server can be told: a dropped subscriber is
        freed after the grace anyway) and stop."""
        self._stopping.set()  # the heartbeat ends at its next beat, and rejoins no more
        with self._session:
            if self.token is not None:
                self.proxy._pyroTimeout = LEAVE_TIMEOUT
                try:
                    self.proxy.leave(self.token)
                except (*UNREACHABLE, LookupError) as exc:
                    log.debug("could not leave: %s", exc)
                self.token = None
            if self._inbox is not None:
                self.daemon.unregister(self._inbox)
        self.proxy._pyroRelease()
        if self._own_daemon:
            self.daemon.close()

    # --- joining, heartbeats, rejoining ------------------------------------------------------

    def _join(self, call: Call | None = None) -> dict:
        call = call or (lambda method, *args: getattr(self.proxy, method)(*args))
        with self._session:
            inbox = Inbox(self, secrets.token_urlsafe(18))
            uri = self.daemon.register(inbox)
            with self._events:
                old, self._inbox, self._ready, self._pending = self._inbox, inbox, False, []
            try:
                reply = call("join", self.room, self.nick, uri, self.last_seq, self.epoch,
                             inbox.key)
            except BaseException:
                self.daemon.unregister(inbox)
                raise
            if old is not None:
                self.daemon.unregister(old)
            with self._events:
                rejoined = self.epoch is not None
                restarted = rejoined and reply["epoch"] != self.epoch
                if restarted or self.last_seq is None:
                    self.last_seq = 0
                self.token, self.epoch = reply["token"], reply["epoch"]
                self.room, self.present = reply["room"], set(reply["who"])
                self.heartbeat = reply["heartbeat"]
                self._handle({"kind": "entered", "room": self.room, "nick": self.nick,
                              "who": reply["who"], "rejoined": rejoined, "restarted": restarted})
                for event in reply["history"]:
                    self._handle(event)
                self.last_seq = max(self.last_seq, reply["last_seq"])
                for event in self._pending:
                    if self._follows(event, self.last_seq):
                        self._handle(event)
                    else:  # only a forger holding the key could have sent it
                        log.warning("refused an event numbered beyond the join: %s", event)
                self._ready, self._pending = True, []
            return reply

    def _live_token(self) -> str:
        """The session's token, read under the session lock (the heartbeat may be rejoining);
        rejoining first if the heartbeat found the session gone and could not rejoin."""
        with self._session:
            if self.token is None:
                self._recover()
            if self.token is None:
                raise LookupError("not in the room: the subscriber has left")
            return self.token

    def _recover(self) -> None:
        """Make sure the session is alive: rejoin if the chat server no longer knows it.
        Raises as the remote calls do when the chat server cannot be reached."""
        with self._session:
            if self._stopping.is_set():
                return
            if self.token is not None:
                try:
                    self.proxy.ping(self.token)
                    return
                except LookupError:
                    self.token = None
            self._join()

    def _beat(self) -> None:
        failing = None  # the failure logged last: each is logged once, until a success
        while not self._stopping.wait(self.heartbeat):
            try:
                self._recover()
                failing = None
                continue
            except UNREACHABLE as exc:  # restarting, most likely: the rejoin will say so
                failure = logging.INFO, "the chat server cannot be reached", exc
            except Exception as exc:  # noqa: BLE001 - e.g. our nick taken meanwhile: retry
                failure = logging.WARNING, f"could not rejoin {self.room} as {self.nick}", exc
            if failing is None or type(failing[2]) is not type(failure[2]):
                log.log(failure[0], "%s (%s); trying again every %.1f s", *failure[1:],
                        self.heartbeat)
            failing = failure

    # --- events -----------------------------------------------------------------------------

    def _arrived(self, inbox: Inbox, first: int, events: list[dict]) -> None:
        """Events `inbox` numbered from `first`: the fresh ones go on. ValueError, changing
        nothing, if they could not have come from the chat server (numbers skipped)."""
        with self._events:
            if inbox is not self._inbox:
                return  # an earlier session's
            if first > inbox.received + 1:
                raise ValueError(f"first must be at most {inbox.received + 1}, the next "
                                 f"event's number (got {first})")
            fresh = events[inbox.received - first + 1:]
            last = self.last_seq if self._ready else next(
                (e["seq"] for e in reversed(self._pending) if e["kind"] == "message"), None)
            for event in fresh:
                if not self._follows(event, last):
                    raise ValueError(f"message numbers must follow on from the last one "
                                     f"(got {rules.shown(event['seq'])})")
                if event["kind"] == "message":
                    last = event["seq"]
            inbox.received = max(inbox.received, first + len(events) - 1)
            if not self._ready:
                self._pending.extend(fresh)
                return
            for event in fresh:
                self._handle(event)

    @staticmethod
    def _follows(event: dict, last: int | None) -> bool:
        """Whether `event` may follow the message numbered `last` (None: not known yet)."""
        return event["kind"] != "message" or last is None or event["seq"] == last + 1

    def _handle(self, event: dict) -> None:
        """Hand `event` to on_event unless it is a message seen already (call with _events)."""
        kind = event.get("kind")
        if kind == "message":
            if event["seq"] <= self.last_seq:
                return
            self.last_seq = event["seq"]
            self._events.notify_all()
        elif kind == "joined":
            self.present.add(event["nick"])
        elif kind in ("left", "dropped"):
            self.present.discard(event["nick"])
        try:
            self.on_event(event)
        except Exception:  # a display problem must not stop deliveries
            log.exception("handling a chat event failed")
