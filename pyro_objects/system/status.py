"""`pyro-objects status` (`make status`): what a running `up` runs, and what answers.

Exit codes: 0 every process alive and every name answering, 1 something down, 2 no `up`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import Pyro4.errors

from pyro_objects import cli, config
from pyro_objects.errors import Error
from pyro_objects.naming import PROBE_TIMEOUT, answering, locate_ns
from pyro_objects.processes import pid_alive
from pyro_objects.state import state_dir
from pyro_objects.system.supervisor import STATUS_FILE, read_status

NOT_RUNNING_HINT = "start it with make up, or pyro-objects up (and give this the same RUN_DIR)"


def status_path() -> Path:
    """$RUN_DIR/status.json, else the state directory's run/status.json."""
    return Path(os.environ.get("RUN_DIR") or state_dir("run")) / STATUS_FILE


def registered(host: str, port: int, wanted: list[str]) -> tuple[dict[str, str], str | None]:
    """({name: uri} of those of `wanted` in the registry, None or why it could not be read)."""
    try:
        with locate_ns(host, port) as ns:
            ns._pyroTimeout = PROBE_TIMEOUT
            listed = ns.list()
    except (Error, Pyro4.errors.PyroError, OSError) as exc:
        return {}, str(exc)
    return {name: str(listed[name]) for name in wanted if name in listed}, None


def check(status: dict) -> dict:
    """The status file's processes, each checked now: alive by its pid, each name in the
    registry and answering."""
    wanted = [name for process in status["processes"] for name in process["names"]]
    ns = status["nameserver"]
    uris, problem = registered(ns["host"], ns["port"], wanted)
    answers = answering(uris)
    processes = [{
        "name": process["name"], "pid": process["pid"], "alive": pid_alive(process["pid"]),
        "state": process["state"], "up_since": process["up_since"],
        "restarts": process["restarts"], "last_exit": process["last_exit"],
        "names": [{"name": name, "uri": uris.get(name), "registered": name in uris,
                   "answers": name in answers} for name in process["names"]],
        "log": process["log"]} for process in status["processes"]]
    ok = problem is None and all(process["alive"] and all(n["answers"] for n in process["names"])
                                 for process in processes)
    return {"ok": ok, "up": {"pid": status["pid"], "started": status["started"],
                             "run_dir": status["run_dir"], "web": status["web"],
                             "nameserver": f"{ns['host']}:{ns['port']}"},
            "registry_error": problem, "processes": processes}


def name_state(entry: dict) -> str:
    if entry["answers"]:
        return entry["name"]
    return f"{entry['name']} ({'not answering' if entry['registered'] else 'not registered'})"


def table(report: dict) -> str:
    up = report["up"]
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(up["started"]))
    lines = [f"up (pid {up['pid']}) since {since}; name server {up['nameserver']}; "
             f"web console {up['web']}; logs in {up['run_dir']}"]
    if report["registry_error"]:
        lines.append(f"registry not readable: {report['registry_error']}")
    rows = [("PROCESS", "PID", "ALIVE", "RESTARTS", "LAST EXIT", "NAMES")]
    for process in report["processes"]:
        alive = "yes" if process["alive"] else (
            "restarting" if process["state"] == "restarting" else "no")
        last = "-" if process["last_exit"] is None else str(process["last_exit"])
        rows.append((process["name"], str(process["pid"]), alive, str(process["restarts"]), last,
                     ", ".join(name_state(entry) for entry in process["names"]) or "-"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines += ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)),
                         row[-1]]).rstrip() for row in rows]
    lines.append("all up" if report["ok"] else "something is down")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(description=__doc__.splitlines()[0],
                        epilog="Reads $RUN_DIR/status.json, else the state directory's "
                               "run/status.json. " + __doc__.splitlines()[2])
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    config.configure("client")
    path = status_path()
    status = read_status(path)
    if status is None or not pid_alive(status["pid"]):
        why = f"no status file {path}" if status is None else \
            f"{path} is left from pid {status['pid']}, which has stopped"
        if args.json:
            print(json.dumps({"ok": False, "up": None, "error": f"no pyro-objects up is running "
                                                                 f"({why})"}))
        else:
            print(f"error: no pyro-objects up is running ({why})\nhint: {NOT_RUNNING_HINT}",
                  file=sys.stderr)
        return 2
    report = check(status)
    print(json.dumps(report, indent=1) if args.json else table(report))
    return 0 if report["ok"] else 1
