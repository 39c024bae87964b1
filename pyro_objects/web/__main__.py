"""pyro-objects web [--host HOST] [--port PORT] | adduser NAME | deluser NAME | passwd NAME

Serves the web console (waitress, threads) until SIGINT/SIGTERM. On loopback no login is
needed; bound to any other address it refuses to start until an account exists.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import resource
import signal
import socket
import sys
from pathlib import Path

import Pyro4
from waitress.server import create_server

from pyro_objects import cli, transport
from pyro_objects.errors import SetupError, UsageError
from pyro_objects.tls import is_loopback
from pyro_objects.web import auth, create_app, db, default_data_dir, keep_private, shutdown
from pyro_objects.web.chat import MAX_CONVERSATIONS, STREAMS_PER_CONVERSATION
from pyro_objects.web.shares import MAX_STREAMS

log = logging.getLogger("web")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
CALL_TIMEOUT = 5.0          # seconds any Pyro4 call waits unless it sets its own
REQUEST_THREADS = 16        # besides one per live stream
# Connections, idle ones included: each costs a file and a few KiB, no thread (waitress's
# poll() loop holds them); one with no request for IDLE_SECONDS is closed, an open stream never.
MAX_CONNECTIONS = 4000
IDLE_SECONDS = 30
SPARE_FILES = 100           # the database, the Pyro4 proxies, the chat callback daemon
LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"]
CHAT_STREAMS = MAX_CONVERSATIONS * STREAMS_PER_CONVERSATION  # reserved: never 503 for chat
STREAMS_CEILING = 1000      # --max-streams at most: each stream holds a thread


def serve_parser() -> argparse.ArgumentParser:
    parser = cli.Parser(prog="python -m pyro_objects.web", description=__doc__.splitlines()[0],
                        epilog="accounts: pyro-objects web adduser NAME | deluser NAME | "
                               "passwd NAME")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; any other than "
                             f"loopback needs accounts)")
    parser.add_argument("--port", type=cli.bind_port, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--data", type=Path, help=f"where the database lives (default "
                                                  f"$WEB_DATA_DIR or {default_data_dir()})")
    parser.add_argument("--require-login", action="store_true",
                        help="require login on loopback too (a machine shared with others)")
    parser.add_argument("--max-streams", type=cli.whole(0, STREAMS_CEILING),
                        default=MAX_STREAMS,
                        help=f"live progress streams open at once, 0 to {STREAMS_CEILING} "
                             f"(default {MAX_STREAMS}; 0: pages poll instead)")
    cli.add_ns_options(parser)
    cli.add_log_option(parser)
    return parser


def user_parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"pyro-objects web {command}")
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--data", type=Path, help="where the database lives")
    if command in ("adduser", "passwd"):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of stdin (scripts)")
    return parser


def database(data: Path | None) -> Path:
    directory = data or default_data_dir()
    path = directory / "web.sqlite"
    keep_private(directory, path)
    db.init_db(path)
    return path


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to read the password from",
                         "run it in a terminal, or pass --password-stdin")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise UsageError("the two passwords differ")
    return password


def new_password(args: argparse.Namespace) -> tuple[str, str]:
    """(name, hash of the password read) for adduser and passwd."""
    try:
        name = auth.check_username(args.name)
        password = auth.check_new_password(read_password(args.password_stdin))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return name, auth.hash_password(password)


def adduser(argv: list[str]) -> None:
    args = user_parser("adduser").parse_args(argv)
    name, password_hash = new_password(args)
    with db.connection(database(args.data)) as conn:
        if not db.add_user(conn, name, password_hash):
            raise UsageError(f"user {name} exists already",
                             f"remove it first: pyro-objects web deluser {name}")
    print(f"added user {name}")


def deluser(argv: list[str]) -> None:
    args = user_parser("deluser").parse_args(argv)
    with db.connection(database(args.data)) as conn:
        if not db.delete_user(conn, args.name):
            raise UsageError(f"no user {args.name}")
    print(f"removed user {args.name}")


def passwd(argv: list[str]) -> None:
    """Change a password; the user's sessions end at once."""
    args = user_parser("passwd").parse_args(argv)
    name, password_hash = new_password(args)
    with db.connection(database(args.data)) as conn:
        if not db.set_password(conn, name, password_hash):
            raise UsageError(f"no user {name}")
    print(f"changed the password of {name}")


def connection_limit() -> int:
    """MAX_CONNECTIONS, or fewer if the open-files limit (raised as far as allowed) is lower."""
    transport.raise_file_limit()
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if files == resource.RLIM_INFINITY or files >= MAX_CONNECTIONS + SPARE_FILES:
        return MAX_CONNECTIONS
    log.warning("the open-files limit (%d) allows %d connections, not %d; raise it "
                "(ulimit -n %d)", files, files - SPARE_FILES, MAX_CONNECTIONS,
                MAX_CONNECTIONS + SPARE_FILES)
    return max(REQUEST_THREADS, files - SPARE_FILES)


def serve(argv: list[str]) -> None:
    args = serve_parser().parse_args(argv)
    cli.setup(args, identity="client")
    if "PYRO_COMMTIMEOUT" not in os.environ:
        Pyro4.config.COMMTIMEOUT = CALL_TIMEOUT
    path = database(args.data)
    login = args.require_login or not is_loopback(args.host)
    with db.connection(path) as conn:
        users = db.count_users(conn)
    if login and not users:
        where = "with --require-login" if is_loopback(args.host) else \
            f"on {args.host or 'all interfaces'}"
        raise SetupError(f"refusing to serve {where} without accounts: anyone who reaches it "
                         f"could use the whole system",
                         "create one with: pyro-objects web adduser NAME (every page then needs "
                         "a login)")
    app = create_app({"DATA_DIR": str(path.parent), "LOGIN_REQUIRED": login,
                      "MAX_STREAMS": args.max_streams,
                      # On loopback, only loopback names: a page elsewhere cannot reach the
                      # console by DNS rebinding.
                      "ALLOWED_HOSTS": [*LOOPBACK_NAMES, args.host.lower()]
                      if is_loopback(args.host) else None})
    try:
        server = create_server(app, host=args.host, port=args.port,
                               threads=REQUEST_THREADS + args.max_streams + CHAT_STREAMS,
                               connection_limit=connection_limit(), asyncore_use_poll=True,
                               channel_timeout=IDLE_SECONDS, cleanup_interval=IDLE_SECONDS // 3,
                               ident="pyro-console", clear_untrusted_proxy_headers=True)
    except OSError as exc:
        shutdown(app)
        raise SetupError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                         "pick another --port (0 chooses a free one) or --host") from None
    host, port = server.effective_host, server.effective_port
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    if not is_loopback(args.host):
        print(f"warning: serving on {args.host or 'all interfaces'} over plain HTTP: passwords "
              f"and session cookies cross the network unencrypted; put an HTTPS reverse proxy "
              f"in front (see the README)", file=sys.stderr, flush=True)
    print(f"web console on http://{shown}:{port}/ (login {'required' if login else 'not needed'})",
          flush=True)

    def stop(*_: object) -> None:
        app.extensions["console"].begin_stop()  # live streams end, freeing their threads
        raise KeyboardInterrupt  # waitress then stops its threads

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    try:
        server.run()
    finally:
        server.close()
        shutdown(app)
    print("web console stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"adduser": adduser, "deluser": deluser, "passwd": passwd}
    if argv and argv[0] in commands:
        commands[argv[0]](argv[1:])
    else:
        serve(argv)


if __name__ == "__main__":
    cli.run(main)
