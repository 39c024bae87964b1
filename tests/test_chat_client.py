"""The client's chat mode and `say`: in a terminal, from a pipe, in the prompt."""

from __future__ import annotations

import os
import signal
import time

import pytest

from pyro_objects.chat import commands
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
    assert lines[0] == "-- you are ana in lobby, with nobody else; /help lists the commands"
    assert [line.split("] ", 1)[1] for line in lines if line.startswith("[")] == [
        "<ana> one", "<ana> /slash", "<ana> two"]
    assert "-- here: ana" in lines
    assert ("-- unknown command /nope: /help lists the commands; //nope sends it as a "
            "message") in lines


@pytest.mark.timeout(60)
def test_the_chat_commands_act_in_a_piped_chat(chat_system):
    """/me, //me, /rooms, /join, /help and a wrong command, as the web page has them."""
    assert run_client(chat_system, "say", "bob", "hi", "--room", "den").returncode == 0
    den = Terminal(client_command("chat", "cy", "--room", "den"), chat_system.env)
    try:
        den.read_until("cy@den> ")
        result = run_client(chat_system, "chat", "ana", stdin=(
            "/me waves\n//me waves\n/rooms\n/join den\n/who\nin den\n/join den\n/me\n"
            "/help\n"))
    finally:
        den.close()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    said = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert said == ["* ana waves", "<ana> /me waves", "<bob> hi", "<ana> in den"]
    assert "-- rooms: den (1), lobby (1)" in lines
    assert lines.index("-- you are ana in den, with cy; /help lists the commands") > lines.index(
        "-- rooms: den (1), lobby (1)")
    assert "-- here: ana, cy" in lines
    assert "-- you are in den already" in lines
    assert "-- /me needs ACTION: /me ACTION" in lines
    start = lines.index(f"-- {commands.HELP[0]}")
    assert lines[start:start + len(commands.HELP)] == [f"-- {text}" for text in commands.HELP]
    lobby = run_client(chat_system, "chat", "dee", stdin="/who\n")
    assert "-- here: dee" in lobby.stdout.splitlines()  # ana left the lobby for den


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
    assert (result.returncode, result.stdout) == (code, "posted as #1\n" if code == 0 else "")
    assert result.stderr.startswith(error), result.stderr


def test_say_with_the_same_id_posts_once_and_says_so(chat_system):
    said = [run_client(chat_system, "say", "bob", "only once", "--id", "m1") for _ in range(2)]
    assert [(r.returncode, r.stdout) for r in said] == [
        (0, "posted as #1\n"), (0, "already posted as #1\n")]
    assert run_client(chat_system, "say", "bob", "second", "--id", "m2").stdout == \
        "posted as #2\n"
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


@pytest.mark.timeout(60)
def test_say_to_a_chat_server_that_may_have_got_it_says_so_and_how_to_retry(chat_system):
    """A call that timed out may have posted: say so, and the id that retries it at most once."""
    chat = chat_system.processes["chat"]
    os.kill(chat.pid, signal.SIGSTOP)
    try:
        result = run_client(chat_system, "say", "bob", "slow", "--id", "late-1",
                            env={"PYRO_COMMTIMEOUT": "1"})
    finally:
        os.kill(chat.pid, signal.SIGCONT)
    assert result.returncode == 1
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: example.chat did not answer within 1s")
    assert error.endswith(": the message may or may not have been posted")
    assert hint == ("hint: send it again with --id late-1: with the same id it is posted at "
                    "most once")
    again = [run_client(chat_system, "say", "bob", "slow", "--id", "late-1") for _ in range(2)]
    assert again[0].stdout in ("posted as #1\n", "already posted as #1\n")  # either may be
    assert (again[1].returncode, again[1].stdout) == (0, "already posted as #1\n")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("missing", ["chat", "nameserver"])
def test_say_after_a_failed_name_lookup_says_it_was_not_posted(chat_system, missing):
    chat_system.stop(missing)
    result = run_client(chat_system, "say", "bob", "anyone?")
    assert result.returncode == 2
    assert "may or may not" not in result.stderr
    assert result.stderr.startswith({
        "chat": "error: no object named 'example.chat' is registered",
        "nameserver": "error: no name server reachable at"}[missing]), result.stderr


@pytest.mark.timeout(90)
def test_a_chat_line_the_chat_server_never_got_is_reported_as_not_sent(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    try:
        terminal.read_until("ana@lobby> ")
        chat_system.stop("chat")  # which removes its name: the lookup fails
        terminal.type("anyone?")
        shown = terminal.read_until("ana@lobby> ")
        assert "error: not sent: the chat server cannot be reached" in shown, shown
        assert "may or may not" not in shown
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 1  # a failure, counted
    finally:
        terminal.close()


@pytest.mark.timeout(90)
def test_a_chat_line_that_may_have_reached_the_server_says_so_and_retries_once(
        chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    chat = chat_system.processes["chat"]
    try:
        terminal.read_until("ana@lobby> ")
        os.kill(chat.pid, signal.SIGSTOP)
        try:
            terminal.type("are you there")
            shown = terminal.read_until("ana@lobby> ", timeout=40)
        finally:
            os.kill(chat.pid, signal.SIGCONT)
        assert "the message may or may not have been posted" in shown, shown
        terminal.type("are you there")  # the same text goes with the same message id
        terminal.read_until("<ana> are you there\r\n", timeout=40)
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 1  # a failure, counted
    finally:
        terminal.close()
    seen = run_client(chat_system, "chat", "bob", stdin="").stdout
    assert seen.count("<ana> are you there") == 1, seen


@pytest.mark.timeout(60)
def test_a_log_line_is_printed_above_the_line_being_typed_not_into_it(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana", "--log-level", "INFO")
    try:
        terminal.read_until("ana@lobby> ")
        os.write(terminal.master, b"half typed")
        terminal.read_until("half typed")
        chat_system.processes.pop("chat").kill()  # the heartbeat logs that it cannot reach it
        shown = terminal.read_until(" INFO the chat server cannot be reached")
        assert shown.rsplit("\n", 1)[-1].startswith("\r\x1b[J"), shown  # on a line cleared
        terminal.read_until("\r\n")
        terminal.read_until("ana@lobby> half typed")  # then the typed line drawn again
        chat_system.start_chat("--grace", GRACE)
        terminal.read_until("-- the chat server had lost us: back in lobby\r\n")
        terminal.read_until("ana@lobby> half typed")
        terminal.type("")
        terminal.read_until("<ana> half typed\r\n")
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()


@pytest.mark.timeout(60)
def test_me_and_join_in_a_terminal(chat_system, tmp_path):
    terminal = chat_terminal(chat_system, tmp_path, "ana")
    try:
        terminal.read_until("ana@lobby> ")
        terminal.type("/me waves")
        terminal.read_until("] * ana waves\r\n")
        terminal.type("/join den")
        terminal.read_until("-- you are ana in den, with nobody else")
        terminal.read_until("ana@den> ")
        terminal.type("/rooms")
        terminal.read_until("-- rooms: den (1)\r\n")
        terminal.type("/quit")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()
