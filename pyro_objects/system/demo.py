"""A scripted session against a freshly started local system (`make demo`): every command,
a chat message posted and received, and every page of the web console."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from pyro_objects import cli, config
from pyro_objects.chat.subscriber import Subscriber
from pyro_objects.client.console import Console
from pyro_objects.errors import StartError
from pyro_objects.processes import wait_until
from pyro_objects.system.local import HOST, LocalSystem
from pyro_objects.web import create_app, shutdown

CHAT_ROOM, CHAT_TEXT = "demo", "hello from the demo"
CHAT_WAIT = 10.0          # seconds the listener waits for the message
PAGE_TIMEOUT = 10.0

# (command, whether it should succeed): the failing ones show what users see on bad input.
STEPS: list[tuple[str, bool]] = [
    ("list", True),
    ("lookup server", True),
    ("ping example.compute", True),
    ("greet Ana", True),
    ("add 2 3", True),
    ("sub 10 4.5", True),
    ("mul 6 7", True),
    ("div 1 3", True),
    ("pow 2 100", True),
    ("mod 17 5", True),
    ("calc 5 + 3 * (2 - 1)", True),
    ("calc sqrt(2) * pi", True),
    ("2 ** 0.5 * (1 + 2)", True),
    ("add 2 3 --json", True),
    ("pislice 0 1000000", True),
    ("chain hello", True),
    ("chain round again --start 2", True),
    ("pi 1000000000", True),
    ("div 1 0", False),
    ("calc 9**9**9", False),
    ("calc __import__('os')", False),
    ("gret Ana", False),
    ("list --kind nonsense", False),
    (f"say ana {CHAT_TEXT} --room {CHAT_ROOM}", True),
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


def page_routes(workdir: Path) -> list[str]:
    """The path of every page of the web console (its GET routes without arguments outside
    /api/ and /static/), from the app's URL map: a new page cannot be missed."""
    app = create_app({"DATA_DIR": str(workdir / "routes")})
    try:
        return sorted({rule.rule for rule in app.url_map.iter_rules()
                       if "GET" in rule.methods and not rule.arguments
                       and not rule.rule.startswith(("/api/", "/static/"))})
    finally:
        shutdown(app)


def fetch_pages(url: str, paths: list[str]) -> list[str]:
    """GET each page (following redirects), echoing its status; the paths not answering 200."""
    wrong = []
    for path in paths:
        try:
            with urllib.request.urlopen(url + path.lstrip("/"), timeout=PAGE_TIMEOUT) as page:
                status = page.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = f"no answer ({exc})"
        print(f"GET {path} {status}", flush=True)
        if status != 200:
            wrong.append(f"GET {path}")
    return wrong


def listener() -> tuple[Subscriber, list[dict]]:
    """A subscriber of the demo's room that keeps the messages it receives."""
    received: list[dict] = []
    subscriber = Subscriber(CHAT_ROOM, "listener", lambda event: received.append(event)
                            if event.get("kind") == "message" else None)
    subscriber.join()
    return subscriber, received


def main(argv: list[str] | None = None) -> int:
    cli.Parser(description=__doc__.splitlines()[0]).parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pyro-demo-") as workdir:
        system = LocalSystem(Path(workdir))
        with system:
            wrong = run_demo(system, Path(workdir))
            if wrong:
                print(f"\ndemo FAILED: {', '.join(wrong)} did not behave as expected",
                      file=sys.stderr)
                for process in system.processes.values():
                    print(f"\n--- {process.name} log ---\n{process.log()}", file=sys.stderr)
                return 1
        print("\ndemo OK: every process stopped", flush=True)
        return 0


def run_demo(system: LocalSystem, workdir: Path) -> list[str]:
    """Start everything, run the session, the chat and the pages; what did not work."""
    try:
        print("starting the name server, the servers and the web console ...", flush=True)
        system.start_all()
        web = system.start_web()
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ["starting the system"]
    config.set_ns_location(HOST, system.ns_port)
    try:
        subscriber, received = listener()
    except Exception as exc:  # noqa: BLE001 - any failure to join is the demo's failure
        print(f"error: the chat listener could not join: {exc}", file=sys.stderr)
        return ["joining the chat"]
    try:
        wrong = run_session(Console(), STEPS)
        try:
            wait_until(lambda: any(e["text"] == CHAT_TEXT for e in received), CHAT_WAIT,
                       "the chat message")
            event = next(e for e in received if e["text"] == CHAT_TEXT)
            print(f"\nchat: listener received #{event['seq']} from {event['nick']}: "
                  f"{event['text']}", flush=True)
        except TimeoutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            wrong.append("receiving the chat message")
    finally:
        subscriber.leave()
    print(f"\nthe web console at {web.url}:", flush=True)
    return wrong + fetch_pages(web.url, page_routes(workdir))
