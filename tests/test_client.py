"""pyro_client.py: one-shot, piped and interactive use; errors as one line with a hint."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import pyro_objects
from pyro_objects import names
from tests.support import client_command, prompt, run_client


@pytest.mark.parametrize("args, output", [
    (["add", "2", "3"], "5"),
    (["sub", "1", "0.9"], repr(1 - 0.9)),
    (["mul", "2", "2.5"], "5.0"),
    (["div", "1", "3"], repr(1 / 3)),
    (["pow", "2", "64"], str(2**64)),
    (["mod", "17", "5"], "2"),
    (["calc", "5 + 3 * (2 - 1)"], "8"),
    (["calc", "5", "+", "3"], "8"),
    (["pislice", "0", "4"], repr(76 / 105)),  # 1 - 1/3 + 1/5 - 1/7, correctly rounded
    (["greet", "Ana"], "Hi welcome Ana"),
])
def test_one_shot_prints_the_bare_result(system, args, output):
    result = run_client(system, *args)
    assert (result.returncode, result.stdout, result.stderr) == (0, output + "\n", "")


@pytest.mark.parametrize("args, code, lines", [
    (["div", "1", "0"], 1, ["error: b must not be zero for div (got a=1, b=0)"]),
    (["pislice", "5", "2"], 1, ["error: b must be >= a (got a=5, b=2)"]),
    (["calc", "9**9**9"], 1, ["error: pow(9, 387420489) would have more than 4000 digits"]),
    (["add", "x", "1"], 2, ["error: argument A: must be a number (got 'x'); usage: add A B"]),
    (["add", "1"], 2, ["error: the following arguments are required: B; usage: add A B"]),
    (["pi", "1.5"], 2, ["error: argument N: must be a whole number (got '1.5'); usage: pi "
                        "[--workers K] [--slice S] [--json-file FILE] N"]),
    (["gret", "Ana"], 2, ["error: unknown command 'gret'", "hint: did you mean 'greet'?"]),
    (["pi", "1e9", "--slice", "1"], 2, ["error: slice must be at least 100000 for 1000000000 "
                                        "terms: at most 10000 slices a run (got 1); usage: pi "
                                        "[--workers K] [--slice S] [--json-file FILE] N"]),
])
def test_one_shot_errors_say_what_and_exit_1_or_2(system, args, code, lines):
    result = run_client(system, *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.splitlines() == lines


@pytest.mark.parametrize("args, output", [
    (["greet", "don't stop"], "Hi welcome don't stop"),
    (["greet", "two  spaces"], "Hi welcome two  spaces"),
    (["add", "2", "3", "--debug"], "5"),
    (["--debug", "add", "2", "3"], "5"),
    (["calc", "--", "-2 * 3"], "-6"),
    (["pislice", "0", "4e0"], repr(76 / 105)),
])
def test_one_shot_keeps_the_users_quoting_and_takes_flags_anywhere(system, args, output):
    result = run_client(system, *args)
    assert (result.returncode, result.stdout, result.stderr) == (0, output + "\n", "")


@pytest.mark.parametrize("terms", ["1e6", "1_000_000", "10**6", "1000000"])
def test_pi_takes_any_exact_way_of_writing_n(system, terms, tmp_path):
    out = tmp_path / f"run {terms}.json"
    result = run_client(system, "pi", terms, f"--json-file={out}")
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["terms"] == 1_000_000


def test_a_chain_message_may_hold_quotes_and_option_like_words(system):
    result = run_client(system, "chain", "--start", "2", "--", "don't --stop")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "passed on from 2", "passed on from 3", "passed on from 1", "complete at 2"]


def test_debug_shows_the_remote_traceback(system):
    result = run_client(system, "div", "1", "0", "--debug")
    assert result.stderr.startswith("error: b must not be zero")
    assert "Remote traceback" in result.stderr and "compute/arithmetic.py" in result.stderr


def test_list_shows_registered_names(system):
    result = run_client(system, "list")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "KIND", "URI", "METADATA"]
    names = [line.split()[0] for line in rows]
    assert {"server", "example.compute", "Pyro.NameServer"} <= set(names)
    ring = run_client(system, "list", "example.chain").stdout.splitlines()[1:]
    assert [line.split()[0] for line in ring] == [f"example.chainTopology.{n}" for n in (1, 2, 3)]


def test_piped_commands_run_without_a_prompt(system):
    script = "add 2 3\n# a comment\n\nmul 4 5\ngreet Bob\n"
    result = run_client(system, stdin=script)
    assert (result.returncode, result.stdout, result.stderr) == (0, "5\n20\nHi welcome Bob\n", "")


def test_piped_commands_keep_going_after_an_error_and_exit_with_the_worst_code(system):
    result = run_client(system, stdin="div 1 0\nadd 1 1\nquit\nadd 9 9\n")
    assert result.stdout == "2\n" and result.returncode == 1
    assert run_client(system, stdin="add 1\ndiv 1 0\n").returncode == 2
    assert result.stderr.startswith("error: b must not be zero")


def test_interactive_prompt_runs_commands_with_help(system, tmp_path):
    with prompt(system, tmp_path) as terminal:
        assert "5" in terminal.run("add 2 3")
        assert "usage: pislice A B" in terminal.run("help pislice")
        listing = terminal.run("help")
        assert "  floordiv  a // b (floor division)" in listing and "EOF" not in listing
        assert "error: b must not be zero" in terminal.run("div 1 0")
        # saved after every command, not only at exit
        assert "div 1 0" in (tmp_path / "history").read_text()
        assert "1024" in terminal.run("calc 2 ** 10")
    assert "add 2 3" in (tmp_path / "history").read_text()


def test_without_a_name_server_the_client_says_how_to_start_one(own_system):
    result = run_client(own_system, "add", "1", "2")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: no name server reachable at 127.0.0.1:")
    assert lines[1].startswith("hint: start one with pyro-objects nameserver")


def test_an_object_that_is_not_registered_gets_a_hint(own_system):
    own_system.start_nameserver()
    result = run_client(own_system, "greet", "Ana")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: no object named 'server' is registered in the name server",
        "hint: start the server that provides it; 'list' shows what is registered",
    ]


def test_ctrl_c_in_a_piped_script_stops_the_script(system):
    client = subprocess.Popen(client_command("--log-level", "INFO"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=system.env)
    try:
        client.stdin.write("pi 2e12\ngreet after-ctrl-c\n")
        client.stdin.close()
        began = time.monotonic()
        while "terms over" not in client.stderr.readline():  # the run has started
            assert time.monotonic() - began < 30, "the pi run never started"
        client.send_signal(signal.SIGINT)
        assert client.wait(timeout=20) == 130
        assert "after-ctrl-c" not in client.stdout.read()
        assert "pi cancelled after" in client.stderr.read()
    finally:
        client.kill()
        client.wait(timeout=10)
        client.stdout.close()
        client.stderr.close()



@pytest.mark.timeout(60)
def test_list_marks_names_that_break_their_prefixs_rules_invalid(system):
    bad = [f"{names.RING_PREFIX}²", f"{names.RING_PREFIX}01"]
    with system.ns() as ns:
        uri = ns.lookup(names.GREETING)
        for name in bad:
            ns.register(name, uri)
        registered = ns.list(prefix=names.RING_PREFIX)
    try:
        listed = run_client(system, "list", names.RING_PREFIX).stdout.splitlines()
    finally:
        with system.ns() as ns:
            for name in bad:
                ns.remove(name)
    assert [re.split(r"\s{2,}", line)[:3] for line in listed[1:]] == [
        [name, "invalid" if name in bad else "ring node", uri]
        for name, uri in sorted(registered.items())]


# --- every command: --json, help, completion ------------------------------------------------

JSON_EXAMPLES = {
    "add": ("add 2 3", 5), "sub": ("sub 5 3", 2), "mul": ("mul 2 3", 6), "div": ("div 1 4", 0.25),
    "floordiv": ("floordiv 7 2", 3), "mod": ("mod 7 2", 1), "pow": ("pow 2 10", 1024),
    "calc": ("calc 2 * 21", 42), "greet": ("greet Ana", "Hi welcome Ana"),
    "pislice": ("pislice 0 4", 76 / 105), "version": ("version", None),
    "list": ("list example.chainTopology.", None), "lookup": ("lookup server", None),
    "ping": ("ping server", None), "chain": ("chain hi", None), "pi": ("pi 1000", None),
    "say": ("say jsonbot hello --id json-1", None), "help": ("help", None),
}
@contextlib.contextmanager
def dead_name(system, name: str):
    """`name` registered, while the block runs, to a port nothing listens on; yields it."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with system.ns() as ns:
        ns.register(name, f"PYRO:dead@127.0.0.1:{port}")
    try:
        yield port
    finally:
        with system.ns() as ns:
            ns.remove(name)


NOT_ONE_SHOT = {"chat", "quit", "exit"}  # interactive, or no result to print


def test_every_command_is_covered_by_the_json_examples():
    from pyro_objects.client.console import Console

    assert set(Console.commands()) - NOT_ONE_SHOT == set(JSON_EXAMPLES)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(JSON_EXAMPLES))
def test_json_gives_one_document_on_stdout(system, name):
    line, expected = JSON_EXAMPLES[name]
    result = run_client(system, *line.split(), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["command"] == name
    if expected is not None:
        assert document["result"] == expected
    shapes = {"list": lambda r: [e["name"] for e in r] == [
                  f"example.chainTopology.{k}" for k in (1, 2, 3)],
              "lookup": lambda r: r["metadata"] == ["greeting"] and r["uri"].startswith("PYRO:"),
              "ping": lambda r: r["alive"] is True and r["ms"] > 0,
              "chain": lambda r: [h["node"] for h in r["hops"]] == [1, 2, 3, 1],
              "pi": lambda r: r["terms"] == 1000 and abs(r["pi"] - 3.14059) < 1e-4,
              "version": lambda r: r == pyro_objects.__version__,
              "say": lambda r: r["room"] == "lobby" and r["seq"] >= 1,
              "help": lambda r: "greet" in r and "say" in r}
    assert shapes.get(name, lambda r: True)(document["result"]), document


@pytest.mark.timeout(60)
@pytest.mark.parametrize("line, code, error", [
    ("div 1 0 --json", 1, "b must not be zero for div (got a=1, b=0)"),
    ("greet 'a --json", 2, "a quote (') is not closed"),
    ("pi 0 --json", 2, "terms must be an int from 1 to 2**50 (got 0)"),
    ("add ٣ 4 --json", 2, "argument A: must be a number"),
    ("ping test.dead --json", 1, "test.dead does not answer at PYRO:dead@127.0.0.1:"),
])
def test_json_errors_are_a_document_too(system, line, code, error):
    with dead_name(system, "test.dead"):
        result = run_client(system, stdin=line + "\n")
    assert result.returncode == code
    document = json.loads(result.stdout)
    assert document["error"].startswith(error) and document["exit_code"] == code
    assert result.stderr.startswith(f"error: {error}")


def test_version():
    result = subprocess.run(client_command("--version"), capture_output=True, text=True,
                            timeout=30)
    assert (result.returncode, result.stdout) == (0, f"pyro_client.py "
                                                     f"{pyro_objects.__version__}\n")


@pytest.mark.timeout(60)
def test_help_shows_each_commands_synopsis_and_what_each_argument_means(system):
    from pyro_objects.client.console import Console

    for name in Console.commands():
        method = getattr(Console, f"do_{name}")
        parser = getattr(method, "parser", None)
        if parser is None:
            continue
        text = run_client(system, "help", name).stdout
        assert text.startswith(f"usage: {name}"), name
        for action in parser._actions:
            if action.dest != "help":
                assert action.help, f"{name}: {action.dest} has no help"
                assert action.help.split()[0] in text, (name, action.dest)


@pytest.mark.timeout(60)
def test_list_kind_must_be_a_known_kind(system):
    result = run_client(system, "list", "--kind", "nonsense")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "error: argument --kind: unknown kind 'nonsense'; the kinds are: greeting, compute, "
        "compute.worker, chain.node, chat; usage: list [--kind KIND] [PREFIX]")


@pytest.mark.timeout(60)
def test_list_shows_aligned_columns_with_the_metadata(system):
    header, *rows = run_client(system, "list", "--kind", "chain.node").stdout.splitlines()
    starts = [header.index(column) for column in ("KIND", "URI", "METADATA")]
    for row in rows:
        assert [row[start - 2:start] for start in starts] == ["  "] * 3, row
        assert row[starts[0]:].startswith("ring node") and row.endswith("chain.node")


@pytest.mark.timeout(60)
def test_lookup_and_ping(system):
    looked = run_client(system, "lookup", "server")
    assert looked.returncode == 0 and "PYRO:server@" in looked.stdout
    assert "greeting" in looked.stdout
    missing = run_client(system, "lookup", "no.such")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: no object named 'no.such' is registered")
    pinged = run_client(system, "ping", "server")
    assert pinged.returncode == 0 and re.fullmatch(
        r"server is up: \d+\.\d ms \(PYRO:server@127\.0\.0\.1:\d+\)\n", pinged.stdout)


@pytest.mark.timeout(60)
def test_ping_says_when_the_object_does_not_answer(system):
    with dead_name(system, "test.dead") as port:
        result = run_client(system, "ping", "test.dead")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"error: test.dead does not answer at PYRO:dead@127.0.0.1:{port}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, error", [
    (["'unterminated"], "error: a quote (') is not closed"),
    (["greet", "'Ana"], "error: a quote (') is not closed"),
    (["chain", "x" * 1200], "error: the message must be at most 1000 characters (got 1200)"),
])
def test_messages_name_what_is_wrong(system, args, error):
    result = run_client(system, stdin=" ".join(args) + "\n")
    assert result.stderr.splitlines()[0].startswith(error), result.stderr


@pytest.mark.timeout(60)
def test_counts_are_singular_or_plural(system):
    result = run_client(system, "pi", "1000", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert re.search(r": 1 slice, 1000 terms, ", result.stdout), result.stdout


@pytest.mark.timeout(60)
def test_tab_completes_commands_options_and_kinds_with_a_trailing_space(system, tmp_path):
    with prompt(system, tmp_path) as terminal:
        terminal.master_write = lambda text: os.write(terminal.master, text.encode())
        terminal.master_write("gre\t")
        terminal.read_until("greet ")
        terminal.master_write("\x15")  # Ctrl-U: clear the line
        terminal.master_write("list --ki\t")
        terminal.read_until("--kind ")
        terminal.master_write("chain.\t")
        terminal.read_until("chain.node ")
        terminal.master_write("\n")
        listing = terminal.read_until("pyro> ")
        assert "example.chainTopology.1" in listing
        terminal.master_write("chain --st\t")
        terminal.read_until("--start ")
        terminal.master_write("\x15lookup serv\t")
        terminal.read_until("server ")
        terminal.master_write("\x15")
