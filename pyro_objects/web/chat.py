"""Chat rooms in the browser: the console joins a room on a page's behalf (a chat subscriber,
called back here, where the chat server can reach it) and relays the room to the page as
server-sent events.

    POST /api/chat/join   {"room", "nick"}  -> {"session", "room", "nick"}  (nick: the user's
                                                 own when logged in)
    GET  /api/chat/events?session=ID        -> the room's events, as they come (SSE)
    POST /api/chat/say    {"session", "text", "message_id"} -> {"seq"}; a retry with the same
                          message_id posts at most once
    POST /api/chat/line   {"session", "line", "message_id"} -> a typed line, read as the
                          terminal reads it (chat.commands): a message or /me posts ({"seq"}),
                          /who, /rooms and /help answer {"notice": [lines]}, /join ROOM
                          answers the new room's {"session", "room", "nick"}, /quit leaves;
                          every reply names its "command"; a wrong command is a 400
    POST /api/chat/leave  {"session"} (JSON, or a form carrying csrf_token: a page's beacon)
    GET  /api/chat/who?room=R               -> {"room", "who"}

A message event whose text is a /me action carries the action too: {"action": "waves"}.
A conversation whose page's stream closed and did not come back within STREAM_GRACE is left,
so a closed or crashed tab frees its nick within seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time

import Pyro4.errors
from flask import Blueprint, Flask, Response, current_app, jsonify, request

from pyro_objects import names
from pyro_objects.chat import commands, rules
from pyro_objects.chat.subscriber import CallbackDaemon, Subscriber, never_sent
from pyro_objects.errors import Error
from pyro_objects.naming import UNREACHABLE
from pyro_objects.web import auth, remote, services, shares
from pyro_objects.web.errors import ApiError
from pyro_objects.web.shares import Pool

bp = Blueprint("chat", __name__, url_prefix="/api/chat")

MAX_CONVERSATIONS = 32     # pages in a room at once, each a subscriber of the console's
MAX_PER_OWNER = 4          # of those, one user's (or, without a login, one address's)
STREAMS_PER_CONVERSATION = 2  # its page's, and the one replacing it while the old one ends:
                              # chat streams are reserved, no other stream can take their place
KEPT_EVENTS = 500          # of a conversation, for a page's stream to pick up again
STREAM_GRACE = 3.0         # a conversation no stream has followed this long is left: its
                           # page's stream comes back within 2 s (retry) if the page lives
REAP_EVERY = 0.5           # seconds between looks for such conversations
KEEPALIVE = 1.0            # seconds between keep-alive comments on a quiet stream: the
                           # server notices a stream's page is gone only when a write fails
NOT_A_NICK = re.compile(r"[^\w.-]")
NICK_DIGEST = 6            # hex digits that tell apart users whose names are not nicks


class Conversation:
    """One page's membership of a room: a Subscriber whose events, numbered, wait here for
    the page's stream (which may drop and come back for them: Last-Event-ID)."""

    def __init__(self, room: str, nick: str, owner: str, share: str,
                 daemon: CallbackDaemon) -> None:
        self.id, self.owner, self.share = secrets.token_urlsafe(16), owner, share
        self.events: list[tuple[int, str]] = []   # (number, JSON), the last KEPT_EVENTS
        self.numbered = 0
        self.followed_at = time.monotonic()
        self.streams = 0
        self.closed = False
        self.changed = threading.Condition()
        self.subscriber = Subscriber(room, nick, self._arrived, daemon=daemon)

    def _arrived(self, event: dict) -> None:
        if event.get("kind") == "message":
            action = commands.action_of(event["text"])
            if action is not None:
                event = {**event, "action": action}
        with self.changed:
            self.numbered += 1
            self.events.append((self.numbered, json.dumps(event)))
            del self.events[:-KEPT_EVENTS]
            self.changed.notify_all()

    def after(self, number: int, timeout: float) -> list[tuple[int, str]]:
        """The events after `number`, waiting up to `timeout` for one."""
        with self.changed:
            self.changed.wait_for(lambda: self.numbered > number or self.closed, timeout)
            return [(n, data) for n, data in self.events if n > number]

    def close(self) -> None:
        with self.changed:
            if self.closed:
                return
            self.closed = True
            self.changed.notify_all()
        self.subscriber.leave()


class Conversations:
    """The console's conversations by id, sharing one callback daemon; orphans are left."""

    def __init__(self) -> None:
        self._open: dict[str, Conversation] = {}
        self.pool = Pool("chat conversations", MAX_CONVERSATIONS, MAX_PER_OWNER,
                         "leave a room (close its tab) first, or use pyro-objects client chat")
        self._lock = threading.Lock()
        self._daemon: CallbackDaemon | None = None
        self._reaper = threading.Thread(target=self._reap, name="chat-orphans", daemon=True)

    def start(self, room: str, nick: str, owner: str, share: str) -> Conversation:
        """A conversation of browser session `owner`, counted in `share`'s part of the pool."""
        with self._lock:
            self._leave_orphans()
            self.pool.take(share)
            try:
                if self._daemon is None:
                    self._daemon = CallbackDaemon()
                    self._reaper.start()
                conversation = Conversation(room, nick, owner, share, self._daemon)
            except BaseException:
                self.pool.give_back(share)
                raise
            self._open[conversation.id] = conversation
        client = services().client  # the console's error messages and hints, its timeout
        try:
            conversation.subscriber.join(
                call=lambda method, *args: client.call(names.CHAT, method, *args))
        except BaseException as exc:
            self.end(conversation.id)
            if not isinstance(exc, (Error, Pyro4.errors.PyroError, OSError)):
                raise
            outcome = remote.failure(exc)
            raise ApiError(outcome.status, outcome.output, outcome.hint) from None
        return conversation

    def get(self, conversation_id: object, owner: str) -> Conversation:
        with self._lock:
            conversation = self._open.get(conversation_id) if isinstance(
                conversation_id, str) else None
        if conversation is None or conversation.owner != owner:
            raise ApiError(404, "no such chat session (left, or dropped after its page went "
                                "away)", "enter the room again")
        return conversation

    def end(self, conversation_id: str) -> None:
        with self._lock:
            conversation = self._open.pop(conversation_id, None)
        if conversation is not None:
            self.pool.give_back(conversation.share)
            conversation.close()

    def _reap(self) -> None:
        while True:
            time.sleep(REAP_EVERY)
            with self._lock:
                self._leave_orphans()

    def _leave_orphans(self) -> None:
        """Leave for the pages gone without a word (call with _lock)."""
        now = time.monotonic()
        for conversation in list(self._open.values()):
            if not conversation.streams and now - conversation.followed_at > STREAM_GRACE:
                del self._open[conversation.id]
                self.pool.give_back(conversation.share)
                threading.Thread(target=conversation.close, daemon=True).start()


def conversations() -> Conversations:
    return current_app.extensions["chat"]


def init_app(app: Flask) -> None:
    app.extensions["chat"] = Conversations()
    app.register_blueprint(bp)


def owner() -> str:
    """Whose a conversation is: this browser session's (its CSRF token is its secret)."""
    return auth.csrf_token()


def nick_of(user: str) -> str:
    """A logged-in user's chat nick: the user name when it is a nick; else as much of it as
    nicks allow and a digest of the whole, so that two users (ana@corp, ana_corp) never
    share one."""
    try:
        return rules.check_nick(user)
    except ValueError:
        digest = hashlib.sha256(user.encode()).hexdigest()[:NICK_DIGEST]
        return f"{NOT_A_NICK.sub('_', user)[:rules.MAX_NAME_CHARS - NICK_DIGEST - 1]}-{digest}"


def body_field(body: object, key: str) -> object:
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body.get(key)


def checked(check, value: object) -> str:
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, str(exc)) from None


@bp.post("/join")
def join():
    body = request.get_json(silent=True)
    room = checked(rules.check_room, body_field(body, "room"))
    user = auth.current_user()
    nick = nick_of(user) if user else checked(rules.check_nick, body_field(body, "nick"))
    return jsonify(joined(conversations().start(room, nick, owner(), shares.owner())))


def joined(conversation: Conversation) -> dict:
    subscriber = conversation.subscriber
    return {"session": conversation.id, "room": subscriber.room, "nick": subscriber.nick}


@bp.get("/events")
def events():
    """Server-sent events: each of the room's events (JSON), numbered for Last-Event-ID."""
    conversation = conversations().get(request.args.get("session"), owner())
    console = services()
    with conversation.changed:
        if conversation.streams >= STREAMS_PER_CONVERSATION:
            raise ApiError(429, f"this chat session has {STREAMS_PER_CONVERSATION} streams "
                                f"open already", "close the other tab showing it")
        conversation.streams += 1
    try:
        last = int(request.headers.get("Last-Event-ID", "0"))
    except ValueError:
        last = 0

    def stream():
        seen = last
        yield "retry: 2000\n\n"
        while not (conversation.closed or console.stopping.is_set()):
            fresh = conversation.after(seen, KEEPALIVE)
            for number, data in fresh:
                yield f"id: {number}\ndata: {data}\n\n"
            seen = fresh[-1][0] if fresh else seen
            if not fresh:
                yield ": keep-alive\n\n"
        yield "event: ended\ndata: {}\n\n"

    def closed() -> None:
        with conversation.changed:
            conversation.streams -= 1
            conversation.followed_at = time.monotonic()

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(closed)
    return response


@bp.post("/say")
def say():
    body = request.get_json(silent=True)
    conversation = conversations().get(body_field(body, "session"), owner())
    text = checked(rules.check_text, body_field(body, "text"))
    return jsonify(seq=post(conversation, text, body_field(body, "message_id")))


def post(conversation: Conversation, text: str, message_id: object) -> int:
    """Post `text` in `conversation`'s room, at most once per `message_id`; its number."""
    message_id = checked(lambda value: rules.check_id(value, "message_id"), message_id)
    try:
        return conversation.subscriber.say(text, message_id)
    except UNREACHABLE as exc:
        if never_sent(exc):
            raise ApiError(503, f"not sent: the chat server cannot be reached ({exc})",
                           "it may be restarting: try again in a moment") from None
        raise ApiError(503, f"the chat server did not answer ({exc}): the message may or may "
                            f"not have been posted",
                       "send it again: the same message id posts it at most once") from None
    except (LookupError, ValueError, TypeError, RuntimeError, Pyro4.errors.PyroError) as exc:
        raise ApiError(409, f"not sent: {exc}") from None


@bp.post("/line")
def line():
    """A line typed on the page, read as the terminal reads it."""
    body = request.get_json(silent=True)
    conversation = conversations().get(body_field(body, "session"), owner())
    typed = body_field(body, "line")
    if not isinstance(typed, str):
        raise ApiError(400, f"line must be a string (got {type(typed).__name__})")
    typed = checked(commands.parse, typed)
    reply: dict = {"command": typed.command}
    if typed.posts:
        text = checked(rules.check_text, typed.posted_text)
        reply["seq"] = post(conversation, text, body_field(body, "message_id"))
    elif typed.command == "who":
        reply["notice"] = [commands.who_line(ask("who", conversation.subscriber.room))]
    elif typed.command == "rooms":
        reply["notice"] = [commands.rooms_line(ask("list_rooms"))]
    elif typed.command == "help":
        reply["notice"] = list(commands.HELP)
    elif typed.command == "join":
        reply.update(move(conversation, typed.text))
    elif typed.command == "quit":
        conversations().end(conversation.id)
    return jsonify(reply)


def move(conversation: Conversation, room: str) -> dict:
    """/join: `conversation`'s nick enters `room`, then leaves its own room (and stays there
    if the join fails). The new conversation's session, or a notice when already there."""
    here = conversation.subscriber
    if rules.nick_key(room) == rules.nick_key(here.room):
        return {"notice": [f"you are in {here.room} already"]}
    entered = conversations().start(room, here.nick, conversation.owner, conversation.share)
    conversations().end(conversation.id)
    return joined(entered)


def ask(method: str, *args: object) -> object:
    """The chat server's answer to `method(*args)`, its failure as the console reports it."""
    try:
        return services().client.call(names.CHAT, method, *args)
    except (Error, Pyro4.errors.PyroError, OSError) as exc:
        outcome = remote.failure(exc)
        raise ApiError(outcome.status, outcome.output, outcome.hint) from None


@bp.post("/leave")
def leave():
    # JSON, or a page's beacon as it goes (a form)
    body = request.get_json(silent=True) if request.is_json else request.form
    conversation = conversations().get(body_field(body, "session"), owner())
    conversations().end(conversation.id)
    return jsonify(left=True)


@bp.get("/who")
def who():
    room = checked(rules.check_room, request.args.get("room", ""))
    return jsonify(room=room, who=ask("who", room))
