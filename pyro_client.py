"""Client for the remote objects: an interactive prompt, or one command from the shell.

    python pyro_client.py                 # prompt (help lists the commands)
    python pyro_client.py add 2 3         # one command; prints the bare result
    echo "add 2 3" | python pyro_client.py

Exit codes: 0 ok, 1 a command failed, 2 usage or set-up error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from pyro_objects import __version__, cli, config, logs
from pyro_objects.client.console import Console

# Options that may also follow the command (`pyro_client.py add 2 3 --debug`); after `--`,
# everything belongs to the command.
GLOBAL_FLAGS = {"--debug"}  # (--json is each command's own: see Console.onecmd)
GLOBAL_OPTIONS = {"--ns-host", "--ns-port", "--log-level"}


def parser() -> argparse.ArgumentParser:
    summaries = "\n".join(f"  {name:<8} {summary}" for name, summary in Console.commands().items())
    result = cli.Parser(
        prog="pyro_client.py", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawTextHelpFormatter,
        epilog=f"commands:\n{summaries}\n\nexit codes: 0 ok, 1 a command failed, "
               f"2 usage or set-up error, 130 interrupted",
    )
    cli.add_ns_options(result)
    result.add_argument("--debug", action="store_true", help="print remote tracebacks")
    result.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    cli.add_log_option(result, default="WARNING")
    result.add_argument("command", nargs=argparse.REMAINDER, help="a command to run, then exit")
    return result


def hoist_global_options(words: list[str]) -> list[str]:
    """Move global options found after the command to the front (up to a `--`)."""
    front, rest = [], []
    index = 0
    while index < len(words):
        word = words[index]
        name = word.split("=", 1)[0]
        if word == "--":
            rest += words[index:]
            break
        if word in GLOBAL_FLAGS or (name in GLOBAL_OPTIONS and "=" in word):
            front.append(word)
        elif word in GLOBAL_OPTIONS and index + 1 < len(words):
            front += words[index:index + 2]
            index += 1
        else:
            rest.append(word)
        index += 1
    return front + rest


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(words)
    command_start = len(words) - len(args.command)
    hoisted = hoist_global_options(args.command)
    if hoisted != args.command:
        args = parser().parse_args(words[:command_start] + hoisted)
    logs.setup(args.log_level)
    config.configure(identity="client")
    config.set_ns_location(args.ns_host, args.ns_port)
    console = Console(debug=args.debug)
    if args.command[:1] == ["--"]:
        del args.command[0]
    if sys.stdin.isatty() and not args.command:
        console.interact()
        return
    if args.command:
        console.onecmd(shlex.join(args.command))
    else:
        console.run_lines(sys.stdin)
    sys.exit(console.exit_code)


if __name__ == "__main__":
    cli.run(main)
