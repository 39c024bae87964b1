"""A chat room without any networking: who is present, numbered messages, recent history.

Events are plain dicts, as they travel to subscribers:
  {"kind": "message", "room", "seq", "nick", "text", "time"}   numbered 1, 2, ... per room
  {"kind": "joined" | "left" | "dropped", "room", "nick", "time"}
  {"kind": "gap", "room", "after", "missed"}   `missed` messages after `after` are not held
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque

from pyro_objects.chat.rules import nick_key

HISTORY = 100             # messages a room holds for those who join or come back
REMEMBERED_IDS = 10_000   # message ids a room remembers, so that a retried say posts once


class Room:
    """Members by nick (unique regardless of case), numbered messages and their history."""

    def __init__(self, name: str, history: int = HISTORY) -> None:
        self.name = name
        # Sequence numbers count from this room's creation: a room dropped (empty, evicted)
        # and created again, or a restarted chat server, starts a new epoch.
        self.epoch = secrets.token_hex(8)
        self.history: deque[dict] = deque(maxlen=history)
        self.last_seq = 0
        self.members: dict[str, object] = {}            # nick key -> the member
        self.nicks: dict[str, str] = {}                 # nick key -> nick as given
        self.posted: OrderedDict[str, tuple[str, int]] = OrderedDict()  # id -> (nick key, seq)

    def __len__(self) -> int:
        return len(self.members)

    def who(self) -> list[str]:
        return sorted(self.nicks.values(), key=nick_key)

    def holds(self, nick: str) -> bool:
        return nick_key(nick) in self.members

    def add(self, nick: str, member: object) -> dict:
        """Seat `member` under `nick`; ValueError if someone has it. Returns the joined event."""
        if self.holds(nick):
            raise ValueError(f"nick {nick!r} is taken in room {self.name!r}: choose another")
        self.members[nick_key(nick)] = member
        self.nicks[nick_key(nick)] = nick
        return self.presence("joined", nick)

    def remove(self, nick: str, why: str = "left") -> dict:
        """Free `nick`; returns the event saying so (`why`: left or dropped)."""
        self.members.pop(nick_key(nick), None)
        self.nicks.pop(nick_key(nick), None)
        return self.presence(why, nick)

    def presence(self, kind: str, nick: str) -> dict:
        return {"kind": kind, "room": self.name, "nick": nick, "time": time.time()}

    def post(self, nick: str, text: str, message_id: str) -> tuple[int, dict | None]:
        """Number and keep a message: (seq, event). A message id seen before posts nothing:
        (the first post's seq, None). ValueError if another nick used that id."""
        key = nick_key(nick)
        if message_id in self.posted:
            poster, seq = self.posted[message_id]
            if poster != key:
                raise ValueError(f"message_id {message_id!r} was used by another nick")
            return seq, None
        self.last_seq += 1
        event = {"kind": "message", "room": self.name, "seq": self.last_seq, "nick": nick,
                 "text": text, "time": time.time()}
        self.history.append(event)
        self.posted[message_id] = (key, self.last_seq)
        if len(self.posted) > REMEMBERED_IDS:
            self.posted.popitem(last=False)
        return self.last_seq, event

    def replay(self, since: int | None) -> list[dict]:
        """The held history (since None), or the messages after `since`, led by a gap event
        when some of those are no longer held."""
        if since is None:
            return list(self.history)
        if since > self.last_seq:
            raise ValueError(f"since must be at most the room's last sequence number "
                             f"{self.last_seq} (got {since})")
        held = [event for event in self.history if event["seq"] > since]
        first = held[0]["seq"] if held else self.last_seq + 1
        if first - since - 1 <= 0:
            return held
        gap = {"kind": "gap", "room": self.name, "after": since, "missed": first - since - 1}
        return [gap, *held]
