"""`make up`: the whole system on this machine until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path

from pyro_objects.errors import StartError
from pyro_objects.system.local import HOST, LocalSystem

DEFAULT_NS_PORT = 9090
DEFAULT_WEB_PORT = 8080


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def main() -> int:
    wanted = int(os.environ.get("PYRO_NS_PORT", DEFAULT_NS_PORT))
    workdir = Path(os.environ.get("RUN_DIR", "run"))
    system = LocalSystem(workdir, ns_port=wanted if port_is_free(wanted) else None)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with system:
        try:
            system.start_all()
            web = system.start_web(port=DEFAULT_WEB_PORT if port_is_free(DEFAULT_WEB_PORT)
                                   else None)
        except StartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"\nsystem up; logs in {workdir}/.\n\nWeb console: {web.url}\n\n"
              f"Or in a second terminal:\n")
        if system.ns_port != DEFAULT_NS_PORT:
            print(f"    export PYRO_NS_HOST={HOST} PYRO_NS_PORT={system.ns_port}")
        print("    .venv/bin/python pyro_client.py\n"
              "    .venv/bin/python pyro_client.py chat NICK    # a chat room; another terminal "
              "too\n\nCtrl-C stops everything.", flush=True)
        while not stop.wait(1.0):
            for process in system.processes.values():
                if not process.alive() and not getattr(process, "reported", False):
                    process.reported = True
                    print(f"warning: {process.name} exited; see {process.log_path}",
                          file=sys.stderr)
    print("stopped.")
    return 0
