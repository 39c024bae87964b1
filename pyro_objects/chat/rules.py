"""What the chat service accepts: every argument checked, with errors naming the rule broken."""

from __future__ import annotations

import string

MAX_NAME_CHARS = 32          # a room or a nick
MAX_TEXT_CHARS = 1000        # a message (100 of them, the history, fit in one Pyro4 message)
MAX_ID_CHARS = 64            # a message id or a session token
MAX_SEQ = 2**53              # sequence numbers stay exact in every serializer
NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")
ID_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
SHOWN_CHARS = 40             # of a refused value, quoted in the error message


def shown(value: object) -> str:
    """repr(value), cut short: a refused megabyte is not echoed back."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}...({len(text)} chars)"


def _string(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string (got {type(value).__name__})")
    return value


def check_name(value: object, what: str) -> str:
    """A room or a nick: 1 to 32 ASCII letters, digits, '-', '_' or '.'. ASCII only, so that
    no two names look alike but differ (Cyrillic 'а' or full-width 'ａ' beside 'a')."""
    name = _string(value, what)
    if not 1 <= len(name) <= MAX_NAME_CHARS or not NAME_CHARS.issuperset(name):
        raise ValueError(f"{what} must be 1 to {MAX_NAME_CHARS} ASCII letters, digits, '-', '_' "
                         f"or '.' (got {shown(name)})")
    return name


def check_room(value: object) -> str:
    return check_name(value, "room")


def check_nick(value: object) -> str:
    return check_name(value, "nick")


def nick_key(nick: str) -> str:
    """Nicks (and rooms) are unique regardless of case: 'Ana' and 'ana' are the same."""
    return nick.lower()


def check_text(value: object) -> str:
    """A message: 1 to 1000 characters, kept exactly as given (escaping is the display's job)."""
    text = _string(value, "text")
    if not 1 <= len(text) <= MAX_TEXT_CHARS:
        raise ValueError(f"text must be 1 to {MAX_TEXT_CHARS} characters (got {len(text)})")
    return text


def check_id(value: object, what: str) -> str:
    """A message id or session token: 1 to 64 ASCII letters, digits, '-' or '_'."""
    ident = _string(value, what)
    if not 1 <= len(ident) <= MAX_ID_CHARS or not ID_CHARS.issuperset(ident):
        raise ValueError(f"{what} must be 1 to {MAX_ID_CHARS} ASCII letters, digits, '-' or '_' "
                         f"(got {shown(ident)})")
    return ident


def check_seq(value: object, what: str) -> int | None:
    """A sequence number (an int >= 0), or None."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer or None (got {type(value).__name__})")
    if not 0 <= value <= MAX_SEQ:
        raise ValueError(f"{what} must be between 0 and 2**53 (got {shown(value)})")
    return value
