"""The client library under both front ends: typed results, errors with hints, per-thread
proxies, the same language and errors in the prompt and the console, the imports' direction."""

from __future__ import annotations

import ast
import io
import logging
import re
import threading
from pathlib import Path

import pytest

from pyro_objects import logs, names
from pyro_objects.client.progress import ProgressBar
from pyro_objects.errors import NotRegistered, Refused, UsageError
from pyro_objects.library import Client, Hop, NameEntry, Ping, Round, as_json
from pyro_objects.library.commands import CALCULATOR, COMMANDS
from pyro_objects.processes import ROOT
from pyro_objects.web import create_app, remote, shutdown
from tests.support import name_server_of, run_client

PACKAGE = ROOT / "pyro_objects"


@pytest.fixture(scope="module")
def client(system):
    with name_server_of(system):
        yield Client(timeout=5.0, ring_timeout=15.0)


@pytest.fixture(scope="module")
def console(system, tmp_path_factory):
    with name_server_of(system):
        app = create_app({"TESTING": True, "DATA_DIR": tmp_path_factory.mktemp("web")})
        try:
            yield app.test_client()
        finally:
            shutdown(app)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, also as `from package import module` (package.module)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_imports_of_sees_every_form_of_import(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import cmd\nfrom pyro_objects import client\n"
                      "from pyro_objects.web.api import bp\n")
    assert {"cmd", "pyro_objects.client", "pyro_objects.web.api"} <= imports_of(source)


def test_the_library_imports_no_front_end():
    for path in sorted((PACKAGE / "library").rglob("*.py")):
        bad = {m for m in imports_of(path) if m.startswith(("pyro_objects.client",
                                                            "pyro_objects.web", "cmd"))
               or m == "cmd"}
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_under_web_imports_the_prompt_or_cmd_or_captures_output():
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        modules = imports_of(path)
        assert not {m for m in modules if m == "cmd" or m.startswith("pyro_objects.client")}, \
            path.name
        assert "redirect_stdout" not in path.read_text() and "StringIO" not in path.read_text()


def test_results_are_typed(client):
    assert client.greet("Ana") == "Hi welcome Ana"
    assert client.operate("add", 2, 3) == 5
    assert client.calc("2 ** 10") == 1024
    assert client.pislice(0, 4) == 76 / 105
    entries = client.names(kind=names.RING_KIND)
    assert all(isinstance(e, NameEntry) for e in entries)
    assert [(e.name, e.kind, e.metadata) for e in entries] == [
        (f"{names.RING_PREFIX}{k}", "ring node", (names.RING_KIND,)) for k in (1, 2, 3)]
    assert client.lookup(names.GREETING).metadata == (names.GREETING_KIND,)
    ping = client.ping(names.GREETING)
    assert isinstance(ping, Ping) and ping.alive and 0 < ping.ms < 2000
    trip = client.chain("hi", start=3)
    assert isinstance(trip, Round) and all(isinstance(h, Hop) for h in trip.hops)
    assert trip.route == ["passed on from 3", "passed on from 1", "passed on from 2",
                          "complete at 3"]
    assert [(h.step, h.node) for h in trip.hops] == [
        ("passed", 3), ("passed", 1), ("passed", 2), ("complete", 3)]
    assert as_json(trip)["hops"][0]["step"] == "passed"


def test_errors_are_the_projects_with_hints(client):
    with pytest.raises(NotRegistered) as missing:
        client.lookup("no.such.name")
    assert missing.value.hint and missing.value.topic == "names"
    with pytest.raises(Refused, match="b must not be zero"):
        client.operate("div", 1, 0)
    with pytest.raises(UsageError, match="the kinds are: greeting, compute"):
        client.names(kind="nonsense")
    with pytest.raises(UsageError, match=r"^the message must be at most 1000 characters "
                                         r"\(got 1200\)$"):
        client.chain("x" * 1200)


@pytest.mark.parametrize(("start", "got"), [
    (0, "0"), (-3, "-3"), (10**6 + 1, "1e+06"), (2 * 10**9, "2e+09"),
    pytest.param(10**400, "int", id="10**400"),
    ("2", "'2'"), (True, "True"), (1.0, "1.0"),
])
def test_chain_refuses_a_start_that_is_no_ring_node_id(client, start, got):
    with pytest.raises(UsageError, match=rf"^start must be from 1 to 1e\+06 \(got "
                                         rf"{re.escape(got)}\)$"):
        client.chain("hi", start)


def test_the_prompt_refuses_a_bad_start_as_the_console_does(system, console):
    token = console.get("/api/session").get_json()["csrf_token"]
    answer = console.post("/api/ring/send", json={"message": "hi", "start": "2e9"},
                          headers={"X-CSRF-Token": token})
    prompt = run_client(system, "chain", "hi", "--start", "2e9")
    assert answer.status_code == 400 and prompt.returncode != 0
    error = answer.get_json()["error"]
    assert error == "start must be from 1 to 1e+06 (got 2e+09)"
    assert prompt.stderr.splitlines()[0] == f"error: {error}; usage: chain [--start K] " \
                                            f"[MESSAGE ...]"


def test_each_thread_has_its_own_proxies_with_the_callers_timeout(client):
    proxies = []

    def grab():
        proxies.append(client.proxy(names.GREETING))

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len({id(p) for p in proxies}) == 3
    assert {p._pyroTimeout for p in proxies} == {5.0}
    assert client.proxy(f"{names.RING_PREFIX}1")._pyroTimeout == 15.0


def test_the_observer_is_told_of_each_command_and_how_it_went(system):
    seen = []
    with name_server_of(system):
        observed = Client(timeout=5.0, observer=lambda *call: seen.append(call))
        observed.operate("add", 1, 2)
        with pytest.raises(Refused):
            observed.operate("div", 1, 0)
    assert [(command, ok) for command, ok, _ in seen] == [("add", True), ("div", False)]
    assert all(0 < seconds < 5 for *_, seconds in seen)


# Lines both front ends take, and what each must answer: the same result or the same error.
SAME_LINES = [
    "add 2 3", "calc 5 + 3 * (2 - 1)", "5 + 3 * (2 - 1)", "greet Ana", "pislice 0 4",
    "gret Ana", "div 1 0", "add x 1", "add 1", "'unterminated", "greet 'unterminated",
    "calc 9**9**9", "sqrt(2)", "x + 1", "pi*2", "2 * pi", "add ٣ ٤", "pislice 0 ٤",
    "greet \"don't\" 'x", "pi * 2", "pi", "sqrt(2) * pi",
]


@pytest.mark.parametrize("line", SAME_LINES)
def test_the_prompt_and_the_calculator_answer_a_line_alike(system, console, line):
    prompt = run_client(system, stdin=line + "\n")
    token = console.get("/api/session").get_json()["csrf_token"]
    answer = console.post("/api/calc", json={"input": line},
                          headers={"X-CSRF-Token": token}).get_json()
    if answer["ok"]:
        assert (prompt.returncode, prompt.stdout) == (0, answer["output"] + "\n")
        return
    error, *hint = prompt.stderr.splitlines()
    assert error == f"error: {answer['output']}"
    if answer["hint"] == remote.CALCULATOR_HINT:  # no command is near: each says what it takes
        assert hint == ["hint: type help for the commands"]
        return
    assert hint == ([f"hint: {answer['hint']}"] if answer["hint"] else [])


def test_gret_gets_the_same_suggestion_in_both(system, console):
    token = console.get("/api/session").get_json()["csrf_token"]
    answer = console.post("/api/calc", json={"input": "gret Ana"},
                          headers={"X-CSRF-Token": token}).get_json()
    assert (answer["output"], answer["hint"]) == ("unknown command 'gret'",
                                                  "did you mean 'greet'?")


@pytest.mark.parametrize("line", ["greet Ana", "add 1 2", "calc 1 + 1"])
def test_console_hints_never_tell_people_to_type_prompt_commands(own_system, tmp_path, line):
    """Nothing registered: the hint says what to start, and points at the Overview."""
    own_system.start_nameserver()
    with name_server_of(own_system):
        app = create_app({"TESTING": True, "DATA_DIR": tmp_path / "web"})
        try:
            web = app.test_client()
            token = web.get("/api/session").get_json()["csrf_token"]
            answer = web.post("/api/calc", json={"input": line},
                              headers={"X-CSRF-Token": token}).get_json()
        finally:
            shutdown(app)
    assert not answer["ok"] and "Overview" in answer["hint"]
    prompt_words = [f"'{name}'" for name in COMMANDS] + ["type help", "--kind"]
    assert not [word for word in prompt_words if word in answer["hint"]], answer["hint"]


def test_the_calculator_takes_the_calculator_commands_only(console):
    token = console.get("/api/session").get_json()["csrf_token"]
    for name in set(COMMANDS) - set(CALCULATOR):
        answer = console.post("/api/calc", json={"input": f"{name} x"},
                              headers={"X-CSRF-Token": token}).get_json()
        assert answer["output"] == f"{name!r} is not a calculator command" and answer["hint"]


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_prompts_logging_goes_through_the_handler_that_steps_aside():
    root = logging.getLogger()
    before = root.handlers[:]
    root.handlers.clear()
    try:
        logs.setup("WARNING")
        assert [type(h) for h in root.handlers] == [logs.TerminalHandler]
    finally:
        root.handlers[:] = before


def test_log_lines_go_above_the_progress_bar_never_inside_it():
    screen = TTY()
    handler = logs.TerminalHandler(screen)
    logger = logging.getLogger("test.progress")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with ProgressBar(screen) as bar:
            bar(50, 100, 2.0)
            logger.warning("a worker was lost")
            bar(60, 100, 2.5)
    finally:
        logger.removeHandler(handler)
    drawn = screen.getvalue()
    # The bar is taken off its line before the record, and drawn again after it.
    before, record, after = drawn.partition("a worker was lost\n")
    assert record and before.endswith("\r\x1b[K")
    assert after.startswith("\r[")
    assert "ETA" in before and "s" + "a worker" not in drawn
    assert drawn.endswith("\r\x1b[K")  # gone at the end
