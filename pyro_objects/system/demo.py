"""A scripted client session against a freshly started local system (`make demo`)."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

from pyro_objects import cli, config
from pyro_objects.client.console import Console
from pyro_objects.errors import StartError
from pyro_objects.system.local import HOST, LocalSystem

# (command, whether it should succeed): the failing ones show what users see on bad input.
STEPS: list[tuple[str, bool]] = [
    ("list", True),
    ("greet Ana", True),
    ("add 2 3", True),
    ("sub 10 4.5", True),
    ("mul 6 7", True),
    ("div 1 3", True),
    ("pow 2 100", True),
    ("mod 17 5", True),
    ("calc 5 + 3 * (2 - 1)", True),
    ("calc sqrt(2) * pi", True),
    ("pislice 0 1000000", True),
    ("chain hello", True),
    ("chain round again --start 2", True),
    ("pi 1000000000", True),
    ("div 1 0", False),
    ("calc 9**9**9", False),
    ("calc __import__('os')", False),
]


def run_session(console: Console, steps: list[tuple[str, bool]]) -> list[str]:
    """Run each step, echoing it like the prompt; return the steps that did not behave."""
    wrong = []
    for command, should_succeed in steps:
        print(f"\n{console.prompt}{command}", flush=True)
        before = console.failures
        with contextlib.redirect_stderr(sys.stdout):  # keep each error beside its command
            console.onecmd(command)
        if (console.failures == before) != should_succeed:
            wrong.append(command)
    return wrong


def main(argv: list[str] | None = None) -> int:
    cli.Parser(description=__doc__.splitlines()[0]).parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pyro-demo-") as workdir:
        system = LocalSystem(Path(workdir))
        with system:
            try:
                print("starting the name server and the servers ...", flush=True)
                system.start_all()
                config.set_ns_location(HOST, system.ns_port)
                wrong = run_session(Console(), STEPS)
            except StartError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            if wrong:
                print(f"\ndemo FAILED: {', '.join(wrong)} did not behave as expected",
                      file=sys.stderr)
                for process in system.processes.values():
                    print(f"\n--- {process.name} log ---\n{process.log()}", file=sys.stderr)
                return 1
        print("\ndemo OK: every process stopped", flush=True)
        return 0
