"""The remote chat service: rooms, sessions and fan-out to every subscriber's own outbox."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import Pyro4
import Pyro4.errors

from pyro_objects.chat import rules
from pyro_objects.chat.callers import caller
from pyro_objects.chat.delivery import Outbox
from pyro_objects.chat.room import Room
from pyro_objects.chat.store import Store

log = logging.getLogger(__name__)

GRACE = 10.0              # seconds a subscriber may fail callbacks or miss heartbeats
QUEUE_LIMIT = 1000        # events waiting for one subscriber before it is dropped
MAX_SUBSCRIBERS = 500     # each has a sender thread and a connection to the server
MAX_SUBSCRIBERS_PER_CLIENT = 50   # one client identity's share (the web console needs 32)
JOINS_AT_ONCE_PER_CLIENT = 16     # joins of one client waiting to reach their callbacks
MAX_ROOMS = 1000
MAX_LISTED_ROOMS = 100    # in one list_rooms() reply
CONNECT_TIMEOUT = 3.0     # to reach a new subscriber's callback object at join
HEARTBEATS_PER_GRACE = 4
MAX_URI_CHARS = 300
NAT_HINT = ("a subscriber must be reachable at the address its daemon binds (PYRO_HOST); one "
            "behind NAT cannot be called back: use the web console instead")


@dataclass(eq=False)
class Session:
    token: str
    room: Room
    nick: str
    outbox: Outbox
    client: str
    last_heard: float = field(default_factory=time.monotonic)

    @property
    def label(self) -> str:
        return f"{self.nick} ({self.room.name})"


def callback_uri(callback: object) -> Pyro4.URI:
    """The PYRO:object@host:port address of a subscriber's callback object (a Pyro4 proxy or
    its URI); TypeError or ValueError otherwise."""
    if isinstance(callback, Pyro4.Proxy):
        uri = callback._pyroUri
    elif isinstance(callback, (str, Pyro4.URI)):
        if len(str(callback)) > MAX_URI_CHARS:
            raise ValueError(f"callback must be a URI of at most {MAX_URI_CHARS} characters "
                             f"(got {len(str(callback))})")
        try:
            uri = Pyro4.URI(callback)
        except Pyro4.errors.PyroError as exc:
            raise ValueError(f"callback must be a PYRO: URI (got {rules.shown(callback)}: "
                             f"{exc})") from None
    else:
        raise TypeError(f"callback must be a Pyro4 proxy or a PYRO: URI "
                        f"(got {type(callback).__name__})")
    if uri.protocol != "PYRO" or uri.sockname or not uri.host or not uri.port or len(
            str(uri)) > MAX_URI_CHARS:
        raise ValueError(f"callback must be a PYRO:object@host:port URI of at most "
                         f"{MAX_URI_CHARS} characters (got {rules.shown(str(uri))})")
    return uri


@Pyro4.behavior(instance_mode="single")
class ChatService:
    """Chat rooms: `join` with a callback object, then `say`, `who`, `leave`, `ping`;
    `list_rooms` the rooms with people in them, `post` posts without joining.

    Every member's events go to its own Outbox (queue and sender thread), so one slow
    subscriber delays nobody else; a member whose queue overflows, whose callbacks fail or
    whose heartbeats stop for `grace` seconds is dropped and its nick freed. Messages are
    numbered per room; `say` and `post` carry a client-chosen id and post at most once.
    """

    def __init__(self, grace: float = GRACE, queue_limit: int = QUEUE_LIMIT,
                 max_subscribers: int = MAX_SUBSCRIBERS, max_rooms: int = MAX_ROOMS,
                 store: Store | None = None,
                 per_client: int = MAX_SUBSCRIBERS_PER_CLIENT) -> None:
        self.grace, self.queue_limit = grace, queue_limit
        self.store = store or Store()
        self.max_subscribers, self.max_rooms = max_subscribers, max_rooms
        self.per_client = per_client
        self.joining: Counter[str] = Counter()  # client -> joins reaching their callbacks
        self.rooms: dict[str, Room] = {}
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="chat-reaper", daemon=True)

    def start(self) -> None:
        self._reaper.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for session in self.sessions.values():
                session.outbox.close()
            self.sessions.clear()
            self.rooms.clear()
            self.store.close()

    # --- remote methods ---------------------------------------------------------------------

    @Pyro4.expose
    def join(self, room, nick, callback, since=None, epoch=None, key=None):
        """Enter `room` as `nick` (unique in the room, regardless of case); events are sent to
        `callback`'s deliver(first, events), or deliver(first, events, key) when a `key` is
        given (a secret of the subscriber's: its callback refuses calls without it).
        Returns {"token", "room", "nick", "epoch", "who", "history", "last_seq",
        "heartbeat"}: history is the last 100 messages, or those after
        sequence number `since` (led by a gap event if more were missed); a `since` from
        another epoch (the chat server's store was lost) counts from the room's start."""
        room, nick = rules.check_room(room), rules.check_nick(nick)
        uri = callback_uri(callback)
        since = rules.check_seq(since, "since")
        epoch = None if epoch is None else rules.check_id(epoch, "epoch")
        key = None if key is None else rules.check_id(key, "key")
        client = caller()
        with self._lock:
            self._check_room_for(room, nick, client)
            if self.joining[client] >= JOINS_AT_ONCE_PER_CLIENT:
                raise RuntimeError(f"at most {JOINS_AT_ONCE_PER_CLIENT} joins of one client may "
                                   f"wait for their callbacks at once: try again later")
            self.joining[client] += 1
        token = secrets.token_urlsafe(18)
        outbox = Outbox(uri, f"{nick} ({room})", self.queue_limit, self.grace,
                        on_drop=lambda reason: self._drop(token, reason), key=key)
        try:
            outbox.connect(CONNECT_TIMEOUT)
        except Pyro4.errors.CommunicationError as exc:
            raise ValueError(f"callback must be reachable from the chat server ({uri.host}:"
                             f"{uri.port} is not: {exc}); {NAT_HINT}") from None
        finally:
            with self._lock:
                self.joining -= Counter({client: 1})
        try:
            with self._lock:
                chat_room = self._check_room_for(room, nick, client)
                if epoch is not None and epoch != chat_room.epoch and since is not None:
                    since = 0
                history = chat_room.replay(since)
                session = Session(token, chat_room, nick, outbox, client)
                joined = chat_room.add(nick, session)
                self.sessions[token] = session
                self._publish(chat_room, joined, besides=session)
                outbox.start()
                reply = {"token": token, "room": chat_room.name, "nick": nick,
                         "epoch": chat_room.epoch, "who": chat_room.who(), "history": history,
                         "last_seq": chat_room.last_seq,
                         "heartbeat": self.grace / HEARTBEATS_PER_GRACE}
        except BaseException:
            outbox.proxy._pyroRelease()
            raise
        log.info("%s joined %s from %s", nick, chat_room.name, uri.location)
        return reply

    @Pyro4.expose
    def say(self, token, text, message_id):
        """Post `text` as the session's nick; returns its sequence number. A message_id this
        room has seen from the same nick posts nothing and returns the first post's number."""
        token = rules.check_id(token, "token")
        text, message_id = rules.check_text(text), rules.check_id(message_id, "message_id")
        with self._lock:
            session = self._session(token)
            seq, event = session.room.post(session.nick, text, message_id)
            if event is not None:
                self._publish(session.room, event)
        return seq

    @Pyro4.expose
    def post(self, room, nick, text, message_id):
        """Post without joining (a one-shot `say`), as a nick nobody in the room holds;
        at most once per message_id, as `say`. Returns the sequence number."""
        return self.post_once(room, nick, text, message_id)["seq"]

    @Pyro4.expose
    def post_once(self, room, nick, text, message_id):
        """`post`, saying whether the message_id was posted before: {"seq", "duplicate"}
        (duplicate: nothing was posted now; seq is the first post's)."""
        room, nick = rules.check_room(room), rules.check_nick(nick)
        text, message_id = rules.check_text(text), rules.check_id(message_id, "message_id")
        with self._lock:
            chat_room = self._room(room)
            if chat_room.holds(nick) and chat_room.posted(message_id) is None:
                raise ValueError(f"nick {nick!r} is in room {chat_room.name!r}: post from "
                                 f"that session, or under another nick")
            seq, event = chat_room.post(nick, text, message_id)
            if event is not None:
                self._publish(chat_room, event)
        return {"seq": seq, "duplicate": event is None}

    @Pyro4.expose
    def who(self, room):
        """The nicks present in `room`, sorted (none if the room does not exist)."""
        room = rules.check_room(room)
        with self._lock:
            chat_room = self.rooms.get(rules.nick_key(room))
            return chat_room.who() if chat_room else []

    @Pyro4.expose
    def list_rooms(self):
        """The rooms with people in them, the fullest first (at most 100):
        [{"room", "people"}]."""
        with self._lock:
            rooms = [(len(r), r.name) for r in self.rooms.values() if len(r)]
        rooms.sort(key=lambda room: (-room[0], rules.nick_key(room[1])))
        return [{"room": name, "people": people} for people, name in rooms[:MAX_LISTED_ROOMS]]

    @Pyro4.expose
    def ping(self, token):
        """The heartbeat: keeps the session alive; returns the room's last sequence number.
        LookupError if the session is unknown (dropped, or the chat server restarted)."""
        token = rules.check_id(token, "token")
        with self._lock:
            return self._session(token).room.last_seq

    @Pyro4.expose
    def leave(self, token):
        """End the session and free its nick; False if it was not (or no longer) there."""
        token = rules.check_id(token, "token")
        with self._lock:
            session = self.sessions.pop(token, None)
            if session is not None:
                self._remove(session, "left")
        if session is not None:
            log.info("%s left", session.label)
        return session is not None

    # --- inside -----------------------------------------------------------------------------

    def _session(self, token: str) -> Session:
        session = self.sessions.get(token)
        if session is None:
            raise LookupError("unknown session (dropped, left, or the chat server restarted): "
                              "join again")
        session.last_heard = time.monotonic()
        return session

    def _room(self, name: str) -> Room:
        """The room called `name` (regardless of case), in memory, loaded or created if need
        be; when there are max_rooms in memory already, the oldest empty one makes way (its
        history stays in the store)."""
        key = rules.nick_key(name)
        if key in self.rooms:
            return self.rooms[key]
        if len(self.rooms) >= self.max_rooms:
            empty = next((k for k, r in self.rooms.items() if not len(r)), None)
            if empty is None:
                raise RuntimeError(f"the chat server has its maximum of {self.max_rooms} rooms, "
                                   f"none empty: join an existing room")
            del self.rooms[empty]
        self.rooms[key] = Room(name, self.store)
        return self.rooms[key]

    def _check_room_for(self, room: str, nick: str, client: str) -> Room:
        if len(self.sessions) >= self.max_subscribers:
            raise RuntimeError(f"the chat server has its maximum of {self.max_subscribers} "
                               f"subscribers: try again later")
        if sum(s.client == client for s in self.sessions.values()) >= self.per_client:
            raise RuntimeError(f"at most {self.per_client} subscribers may join from one "
                               f"client ({client}): leave some first")
        chat_room = self._room(room)
        if chat_room.holds(nick):
            raise ValueError(f"nick {nick!r} is taken in room {chat_room.name!r}: choose another")
        return chat_room

    def _publish(self, room: Room, event: dict, besides: Session | None = None) -> None:
        """Queue `event` for every member of `room`; drop those whose queue is full."""
        overflowed = [s for s in room.members.values()
                      if s is not besides and not s.outbox.put(event)]
        for session in overflowed:
            if self.sessions.pop(session.token, None) is not None:
                log.warning("dropped %s: its queue of %d events is full", session.label,
                            self.queue_limit)
                self._remove(session, "dropped")

    def _remove(self, session: Session, why: str) -> None:
        session.outbox.close()
        self._publish(session.room, session.room.remove(session.nick, why))

    def _drop(self, token: str, reason: str) -> None:
        with self._lock:
            session = self.sessions.pop(token, None)
            if session is not None:
                self._remove(session, "dropped")
        if session is not None:
            log.warning("dropped %s: %s", session.label, reason)

    def _reap(self) -> None:
        """Drop the sessions whose heartbeats stopped for longer than the grace."""
        while not self._stopping.wait(min(1.0, self.grace / HEARTBEATS_PER_GRACE)):
            now = time.monotonic()
            with self._lock:
                silent = [s for s in self.sessions.values() if now - s.last_heard > self.grace]
            for session in silent:
                self._drop(session.token,
                           f"no heartbeat for {now - session.last_heard:.1f} s")

    # --- statistics (the web console's /metrics) ----------------------------------------------

    @Pyro4.expose
    def stats(self):
        """{"rooms": rooms with someone in them, "subscribers": sessions joined, "delivered":
        events delivered to subscribers since this server started (a counter)}. Deliveries
        to a subscriber that joined and left between two calls of stats() are not counted."""
        with self._lock:
            if not hasattr(self, "_delivered_before"):  # made here: this block stands alone
                self._delivered_before = 0              # by subscribers gone since
                self._outboxes_seen: dict[str, Outbox] = {}
            for token in [t for t in self._outboxes_seen if t not in self.sessions]:
                self._delivered_before += self._outboxes_seen.pop(token).sent
            self._outboxes_seen.update((t, s.outbox) for t, s in self.sessions.items())
            return {"rooms": sum(1 for room in self.rooms.values() if len(room)),
                    "subscribers": len(self.sessions),
                    "delivered": self._delivered_before + sum(
                        outbox.sent for outbox in self._outboxes_seen.values())}
