"""Chat line commands, for every front end: what a typed line asks for, the help, and how
`/me` actions travel.

A line is a message, or a command when its first character (after blanks) is one '/':
/me ACTION, /who, /rooms, /join ROOM, /help, /quit. '//' sends a message with a leading '/'
('//who' posts "/who").

An action travels as an ordinary message whose text is IRC's CTCP ACTION, "\\x01ACTION
waves\\x01": the store and plain Pyro4 clients see a message as always, and no typed text
passes for one (a typed "//me waves" posts the words "/me waves", shown as they are; a pasted
"\\x01ACTION ...\\x01" is refused).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyro_objects.chat import rules

ACTION_OPEN, ACTION_CLOSE = "\x01ACTION ", "\x01"
HELP = (
    "/me ACTION: say what you do (shown as * nick ACTION)",
    "/who: who is in this room",
    "/rooms: the rooms with people in them",
    "/join ROOM: leave this room for ROOM, under the same nick",
    "/help: this list",
    "/quit: leave the room",
    "//TEXT: send TEXT with a leading / (//who sends /who)",
)
ARGUMENTS = {"me": "ACTION", "join": "ROOM"}          # commands that take one
BARE = frozenset({"who", "rooms", "help", "quit"})   # commands that take none
ALIASES = {"exit": "quit"}


@dataclass(frozen=True)
class Line:
    """What a typed line asks for: `command` is "message" (post `text`), "me" (post the
    action `text`), "who", "rooms", "join" (`text` is the room), "help", "quit", or "none"
    (a blank line)."""

    command: str
    text: str = ""

    @property
    def posts(self) -> bool:
        return self.command in ("message", "me")

    @property
    def posted_text(self) -> str:
        """The text this line posts (a message or an encoded action)."""
        return action_text(self.text) if self.command == "me" else self.text


def parse(line: str) -> Line:
    """The command `line` holds; ValueError, saying what to type, for an unknown command or
    a missing or extra argument. A message is kept as typed (surrounding spaces too)."""
    start = line.lstrip()
    if start.startswith("//"):
        return message(line.replace("/", "", 1))
    if not start.startswith("/"):
        return message(line) if start else Line("none")
    word, _, rest = start[1:].strip().partition(" ")
    name, rest = ALIASES.get(word.lower(), word.lower()), rest.strip()
    if name in ARGUMENTS:
        if not rest:
            raise ValueError(f"/{name} needs {ARGUMENTS[name]}: /{name} {ARGUMENTS[name]}")
        if name == "join":
            return Line("join", rules.check_room(rest))
        return Line(name, rest)
    if name in BARE:
        if rest:
            raise ValueError(f"/{name} takes no argument (got {rules.shown(rest)})")
        return Line(name)
    word = word[:rules.SHOWN_CHARS]
    raise ValueError(f"unknown command /{word}: /help lists the commands; //{word} sends it "
                     f"as a message")


def message(text: str) -> Line:
    """A typed message; ValueError if it would pass for an action (a pasted \x01ACTION)."""
    if action_of(text) is not None:
        raise ValueError("a typed message cannot be a CTCP ACTION: type /me ACTION")
    return Line("message", text)


def action_text(action: str) -> str:
    """The message text of the action `action` ("waves")."""
    return f"{ACTION_OPEN}{action}{ACTION_CLOSE}"


def action_of(text: str) -> str | None:
    """The action a message's text encodes ("waves"), or None for a plain message."""
    if text.startswith(ACTION_OPEN) and text.endswith(ACTION_CLOSE) and len(text) > len(
            ACTION_OPEN):
        return text[len(ACTION_OPEN):-len(ACTION_CLOSE)]
    return None


def who_line(nicks: list[str]) -> str:
    return f"here: {', '.join(nicks) or 'nobody'}"


def rooms_line(rooms: list[dict]) -> str:
    """`rooms` as the service's list_rooms() gives them: "rooms: lobby (3), den (1)"."""
    listed = ", ".join(f"{r['room']} ({r['people']})" for r in rooms)
    return f"rooms: {listed or 'none with people in them'}"
