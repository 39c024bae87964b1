"""Chat line commands, as both front ends read them (chat.commands, no network)."""

from __future__ import annotations

import pytest

from pyro_objects.chat import commands
from pyro_objects.chat.commands import Line, parse


@pytest.mark.parametrize("typed, line", [
    ("hello", Line("message", "hello")),
    ("  spaced  ", Line("message", "  spaced  ")),
    ("", Line("none")),
    ("   ", Line("none")),
    ("//who", Line("message", "/who")),
    (" //x", Line("message", " /x")),
    ("//me waves", Line("message", "/me waves")),
    ("/me waves hello", Line("me", "waves hello")),
    ("/who", Line("who")),
    (" /WHO ", Line("who")),
    ("/rooms", Line("rooms")),
    ("/join den", Line("join", "den")),
    ("/help", Line("help")),
    ("/quit", Line("quit")),
    ("/exit", Line("quit")),
])
def test_a_typed_line_is_a_message_or_a_command(typed, line):
    assert parse(typed) == line


@pytest.mark.parametrize("typed, error", [
    ("/x", "unknown command /x: /help lists the commands; //x sends it as a message"),
    ("/", "unknown command /: /help lists the commands"),
    ("/me", "/me needs ACTION: /me ACTION"),
    ("/join", "/join needs ROOM: /join ROOM"),
    ("/join #den", "room must be 1 to 32 ASCII letters"),
    ("/who is here", "/who takes no argument (got 'is here')"),
    ("\x01ACTION waves\x01", "a typed message cannot be a CTCP ACTION: type /me ACTION"),
])
def test_a_wrong_command_says_what_to_type(typed, error):
    with pytest.raises(ValueError) as refused:
        parse(typed)
    assert str(refused.value).startswith(error)


def test_an_action_travels_as_a_message_no_typed_text_can_pass_for():
    posted = parse("/me waves").posted_text
    assert posted == "\x01ACTION waves\x01"
    assert commands.action_of(posted) == "waves"
    for typed in ("//me waves", "/me waves", "* ana waves", "\x01ACTION"):
        assert commands.action_of(parse(typed).text if typed.startswith("//") else typed) \
            is None
    assert parse("//me waves").posted_text == "/me waves"


def test_who_and_rooms_read_the_same_everywhere():
    assert commands.who_line(["ana", "bob"]) == "here: ana, bob"
    assert commands.rooms_line([{"room": "lobby", "people": 2}, {"room": "den", "people": 1}]) \
        == "rooms: lobby (2), den (1)"
    assert commands.rooms_line([]) == "rooms: none with people in them"


@pytest.mark.parametrize("missed, line", [
    (1, "-- 1 earlier message is no longer held"),
    (37, "-- 37 earlier messages are no longer held"),
])
def test_the_gap_line_is_singular_or_plural(missed, line):
    from pyro_objects.client.chat_commands import format_event

    assert format_event({"kind": "gap", "missed": missed}) == line
