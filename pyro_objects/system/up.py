"""`pyro-objects up` (`make up`): the whole system on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import threading
from pathlib import Path

from pyro_objects import cli, logs
from pyro_objects.errors import StartError
from pyro_objects.state import state_dir
from pyro_objects.system.local import HOST, LocalSystem
from pyro_objects.system.supervisor import (
    FIRST_DELAY,
    MAX_DELAY,
    STATUS_ENV,
    STATUS_FILE,
    Supervisor,
)

DEFAULT_NS_PORT = 9090
DEFAULT_WEB_PORT = 8080


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def own_command() -> str:
    """How to run `pyro-objects` with this interpreter, as a user would type it."""
    script = Path(sys.executable).with_name("pyro-objects")
    if shutil.which("pyro-objects") == str(script):
        return "pyro-objects"
    return str(script) if script.exists() else f"{sys.executable} -m pyro_objects"


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(
        description=__doc__.splitlines()[0],
        epilog="Logs and status.json go to $RUN_DIR, else the state directory's run/ "
               "(~/.local/state/pyro-objects/run). A process that exits is restarted, after "
               f"--restart-delay seconds doubling up to {MAX_DELAY:g} s.")
    parser.add_argument("--web-port", type=cli.bind_port,
                        help=f"the web console's port ({DEFAULT_WEB_PORT} if free, else any; "
                             f"0: any)")
    parser.add_argument("--restart-delay", type=cli.positive, default=FIRST_DELAY,
                        help=f"seconds before restarting a process that exited, doubled at "
                             f"each exit ({FIRST_DELAY:g})")
    cli.add_log_option(parser)
    args = parser.parse_args(argv)
    logs.setup(args.log_level)
    try:
        wanted = cli.port(os.environ.get("PYRO_NS_PORT", str(DEFAULT_NS_PORT)))
    except argparse.ArgumentTypeError as exc:
        cli.fail(f"PYRO_NS_PORT {exc}", "unset it, or give the name server's port")
    workdir = Path(os.environ.get("RUN_DIR") or state_dir("run"))
    status_path = workdir.absolute() / STATUS_FILE
    system = LocalSystem(workdir, ns_port=wanted if port_is_free(wanted) else None,
                         extra_env={STATUS_ENV: str(status_path)})
    web_port = args.web_port if args.web_port is not None else (
        DEFAULT_WEB_PORT if port_is_free(DEFAULT_WEB_PORT) else 0)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with system:
        try:
            system.start_all()
            web = system.start_web(port=web_port or None)
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        supervisor = Supervisor(system, status_path, first_delay=args.restart_delay,
                                max_delay=max(MAX_DELAY, args.restart_delay))
        print(f"\nsystem up; logs and {STATUS_FILE} in {workdir}/.\n\n"
              f"Web console: {web.url}\n\nOr in a second terminal:\n")
        if system.ns_port != DEFAULT_NS_PORT:
            print(f"    export PYRO_NS_HOST={HOST} PYRO_NS_PORT={system.ns_port}")
        command = own_command()
        print(f"    {command} client\n"
              f"    {command} client chat NICK    # a chat room; another terminal too\n"
              f"    {command} status              # what runs, and what answers\n\n"
              f"A process that exits is restarted. Ctrl-C stops everything.", flush=True)
        try:
            supervisor.run(stop)
        finally:
            supervisor.remove()
    print("stopped.")
    return 0
