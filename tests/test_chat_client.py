"""The client's chat mode and `say`: in a terminal, from a pipe, in the prompt."""

from __future__ import annotations

import os
import time

import pytest

from tests.support import Terminal, client_command, prompt, run_client

GRACE = "3"


@pytest.fixture
def chat_system(own_system):
    own_system.start_nameserver()
    own_system.start_chat("--grace", GRACE)
    return own_system


def chat_terminal(system, tmp_path, *args: str) -> Terminal:
    env = {**system.env, "PYRO_CLIENT_HISTORY": str(tmp_path / "history")}
    return Terminal(client_command("chat", *args), env)


def test_an_incoming_message_appears_above_the_line_being_typed(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    try:
        terminal.read_until("ana@lobby> ")
        os.write(terminal.master, b"half a li")  # typed, Enter not pressed
        terminal.read_until("half a li")
        assert run_client(chat_system, "say", "bob", "hi \x1b[2J there").returncode == 0
        assert "\r\x1b[J[" in terminal.read_until("<bob> ")  # the typed line cleared first
        terminal.read_until("hi \\x1b[2J there\r\n")       # escapes shown, not obeyed
        terminal.read_until("ana@lobby> half a li")         # then drawn again as it was
        terminal.type("ne")
        terminal.read_until("<ana> half a line\r\n")       # sent whole, and back in order
        terminal.type("/who")
        terminal.read_until("-- here: ana\r\n")
        os.write(terminal.master, b"an\t\n")                # Tab completes a nick present
        terminal.read_until("<ana> ana\r\n")
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()


def test_chat_in_the_prompt_returns_to_it_and_keeps_chat_lines_out_of_the_history(
        chat_system, tmp_path):
    with prompt(chat_system, tmp_path) as terminal:
        terminal.type("chat ana --room den")
        terminal.read_until("-- you are ana in den, with nobody else")
        terminal.read_until("ana@den> ")
        terminal.type("hello from the prompt")
        terminal.read_until("<ana> hello from the prompt")
        terminal.type("/quit")
        terminal.read_until("pyro> ")
    history = (tmp_path / "history").read_text()
    assert "chat ana --room den" in history and "hello from the prompt" not in history


def test_a_piped_chat_sends_each_line_and_prints_what_comes(chat_system):
    result = run_client(chat_system, "chat", "ana", stdin="one\n\n//slash\n/who\n/nope\ntwo\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "-- you are ana in lobby, with nobody else; /quit to leave"
    assert [line.split("] ", 1)[1] for line in lines if line.startswith("[")] == [
        "<ana> one", "<ana> /slash", "<ana> two"]
    assert "-- here: ana" in lines and "-- unknown command /nope" in lines


def test_the_chat_carries_on_after_a_chat_server_restart_saying_so_once(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    try:
        terminal.read_until("ana@lobby> ")
        chat_system.processes.pop("chat").kill()
        time.sleep(3 * float(GRACE) / 4)  # down for a few heartbeats (a scenario, not a wait)
        chat_system.start_chat("--grace", GRACE)
        # Its store kept the room's numbering: to the client, as if it had been dropped.
        meanwhile = terminal.read_until("-- the chat server had lost us: back in lobby\r\n")
        assert meanwhile.count("\n") == 1, meanwhile  # that line, and nothing else
        terminal.type("still here")
        after = terminal.read_until("<ana> still here\r\n")
        assert "lost us" not in after
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()


def test_ctrl_c_leaves_the_chat_with_exit_code_130(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    try:
        terminal.read_until("ana@lobby> ")
        os.write(terminal.master, b"\x03")
        assert terminal.process.wait(timeout=20) == 130
    finally:
        terminal.close()
    assert run_client(chat_system, "say", "ana", "the nick is free again").returncode == 0


@pytest.mark.parametrize("args, code, error", [
    (["say", "bob", "hello", "world"], 0, ""),
    (["say", "bob", "x" * 1001], 2, "error: text must be 1 to 1000 characters (got 1001)"),
    (["say", "b b", "hi"], 2, "error: argument NICK: nick must be 1 to 32 ASCII letters"),
    (["say", "bob", "hi", "--room", "#x"], 2, "error: argument --room: room must be 1 to"),
    (["say", "bob", "hi", "--id", "not ok"], 2, "error: argument --id: ID must be 1 to 64"),
    (["chat", "a/b"], 2, "error: argument NICK: nick must be 1 to 32 ASCII letters"),
])
def test_say_posts_once_and_exits_with_the_clients_codes(chat_system, args, code, error):
    result = run_client(chat_system, *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.startswith(error), result.stderr


def test_say_with_the_same_id_posts_once(chat_system):
    for _ in range(2):
        assert run_client(chat_system, "say", "bob", "only once", "--id", "m1").returncode == 0
    assert run_client(chat_system, "say", "bob", "second", "--id", "m2").returncode == 0
    result = run_client(chat_system, "chat", "ana", stdin="")
    assert [line.split("] ", 1)[1] for line in result.stdout.splitlines()[1:]] == [
        "<bob> only once", "<bob> second"]


def test_say_refused_by_the_server_exits_1_and_without_one_exits_2(chat_system):
    terminal = Terminal(client_command("chat", "ana"), chat_system.env)
    try:
        terminal.read_until("ana@lobby> ")
        result = run_client(chat_system, "say", "ana", "pretending")
        assert result.returncode == 1
        assert result.stderr == ("error: nick 'ana' is in room 'lobby': post from that "
                                 "session, or under another nick\n")
    finally:
        terminal.close()
    chat_system.stop("chat")  # which removes its name
    result = run_client(chat_system, "say", "bob", "anyone?")
    assert result.returncode == 2
    assert result.stderr.startswith("error: no object named 'example.chat' is registered")
