"""The `pyro-objects` command: one subcommand per entry point, each the entry point's own main."""

from __future__ import annotations

import difflib
import importlib
import sys

from pyro_objects import __version__, cli

# subcommand: (module, what it does). Each module's main(argv) is the same code that
# `python -m MODULE` and the checkout's scripts run.
SUBCOMMANDS = {
    "demo": ("pyro_objects.system.demo",
             "start everything on loopback, run a scripted session, stop"),
    "up": ("pyro_objects.system.up", "run the whole system on this machine until Ctrl-C"),
    "status": ("pyro_objects.system.status",
               "what a running `up` runs, its names in the registry, what answers"),
    "nameserver": ("pyro_objects.nameserver",
                   "the name server (Pyro4's, with this project's rules)"),
    "server": ("pyro_server", "the greeting object `server` and the compute object"),
    "worker": ("compute.__main__", "a compute worker for distributed pi"),
    "ring-node": ("chain.server", "one node of the chain ring"),
    "chat": ("pyro_objects.chat.__main__", "a chat server"),
    "web": ("pyro_objects.web.__main__", "the web console (also: adduser, deluser, passwd)"),
    "client": ("pyro_client", "the client: a prompt, or one command"),
    "certs": ("pyro_objects.certs", "the CA and certificates for mutual TLS"),
}
PROG = "pyro-objects"


def usage() -> str:
    rows = "\n".join(f"  {name:<11} {what}" for name, (_, what) in SUBCOMMANDS.items())
    return (f"usage: {PROG} [--version] [--help] COMMAND [ARGS ...]\n\n"
            f"Remote objects in Python on Pyro4.\n\ncommands:\n{rows}\n\n"
            f"'{PROG} COMMAND --help' describes one. Exit codes: 0 ok, 1 failed, "
            f"2 usage or set-up error, 130 interrupted.")


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    if not words or words[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if words else 2)
    if words[0] == "--version":
        print(f"{PROG} {__version__}")
        sys.exit(0)
    name, rest = words[0], words[1:]
    if name not in SUBCOMMANDS:
        close = difflib.get_close_matches(name, SUBCOMMANDS, n=1)
        cli.fail(f"unknown command '{name}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                 f"'{PROG} --help' lists the commands")
    module = importlib.import_module(SUBCOMMANDS[name][0])
    sys.argv[0] = f"{PROG} {name}"  # cli.Parser names the subcommand so in its usage lines
    result = []
    cli.run(lambda: result.append(module.main(rest)))
    sys.exit(result[0] if result and result[0] is not None else 0)
