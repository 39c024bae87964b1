"""python -m pyro_objects.web [--host HOST] [--port PORT] | adduser NAME | deluser NAME

Serves the web console (waitress, threads) until SIGINT/SIGTERM. On loopback no login is
needed; bound to any other address it refuses to start until an account exists.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import Pyro4
from waitress.server import create_server

from pyro_objects import cli
from pyro_objects.errors import SetupError, UsageError
from pyro_objects.tls import is_loopback
from pyro_objects.web import auth, create_app, db, default_data_dir, shutdown

log = logging.getLogger("web")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
CALL_TIMEOUT = 5.0          # seconds any Pyro4 call waits unless it sets its own
REQUEST_THREADS = 16        # besides one per live stream
LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"]


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyro-objects web", description=__doc__.splitlines()[0],
                                     epilog="accounts: pyro-objects web adduser NAME | deluser NAME")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; any other than "
                             f"loopback needs accounts)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--data", type=Path, help=f"where the database lives (default "
                                                  f"$WEB_DATA_DIR or {default_data_dir()})")
    parser.add_argument("--require-login", action="store_true",
                        help="require login on loopback too (a machine shared with others)")
    parser.add_argument("--max-streams", type=int, default=64,
                        help="live progress streams open at once (default 64)")
    parser.add_argument("--ns-host", help="name server host (default $PYRO_NS_HOST)")
    parser.add_argument("--ns-port", type=int, help="name server port (default $PYRO_NS_PORT)")
    cli.add_log_option(parser)
    return parser


def user_parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"pyro-objects web {command}")
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--data", type=Path, help="where the database lives")
    if command == "adduser":
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of stdin (scripts)")
    return parser


def database(data: Path | None) -> Path:
    directory = data or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "web.sqlite"
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


def adduser(argv: list[str]) -> None:
    args = user_parser("adduser").parse_args(argv)
    try:
        name = auth.check_username(args.name)
        password = auth.check_new_password(read_password(args.password_stdin))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with db.connection(database(args.data)) as conn:
        if not db.add_user(conn, name, auth.hash_password(password)):
            raise UsageError(f"user {name} exists already",
                             f"remove it first: pyro-objects web deluser {name}")
    print(f"added user {name}")


def deluser(argv: list[str]) -> None:
    args = user_parser("deluser").parse_args(argv)
    with db.connection(database(args.data)) as conn:
        if not db.delete_user(conn, args.name):
            raise UsageError(f"no user {args.name}")
    print(f"removed user {args.name}")


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
                      "TRUSTED_HOSTS": [*LOOPBACK_NAMES, args.host]
                      if is_loopback(args.host) else None})
    try:
        server = create_server(app, host=args.host, port=args.port,
                               threads=REQUEST_THREADS + args.max_streams,
                               connection_limit=4 * (REQUEST_THREADS + args.max_streams),
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


def main() -> None:
    argv = sys.argv[1:]
    commands = {"adduser": adduser, "deluser": deluser}
    if argv and argv[0] in commands:
        commands[argv[0]](argv[1:])
    else:
        serve(argv)


if __name__ == "__main__":
    cli.run(main)
