"""A chat server: pyro-objects chat [--name example.chat] [--data DIR] [--grace SECONDS] ...

Serves chat rooms under a name (metadata kind "chat"), so several chat servers may run under
different names. Subscribers join with a callback object and get every event of their room.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from pyro_objects import cli, names
from pyro_objects.chat import peers
from pyro_objects.chat.service import (
    GRACE,
    MAX_SUBSCRIBERS,
    MAX_SUBSCRIBERS_PER_CLIENT,
    QUEUE_LIMIT,
    ChatService,
)
from pyro_objects.chat.store import Store
from pyro_objects.errors import SetupError
from pyro_objects.serving import Registration, Server
from pyro_objects.state import state_dir

MAX_QUEUE = 100_000  # events per subscriber: each subscriber may hold this many


def default_data_dir() -> Path:
    """$CHAT_DATA_DIR, else <state dir>/chat."""
    if os.environ.get("CHAT_DATA_DIR"):
        return Path(os.environ["CHAT_DATA_DIR"])
    return state_dir("chat")


def main(argv: list[str] | None = None) -> None:
    parser = cli.Parser(prog="python -m pyro_objects.chat", description=__doc__.splitlines()[0])
    parser.add_argument("--name", type=cli.name, default=names.CHAT,
                        help=f"name to register ({names.CHAT})")
    parser.add_argument("--data", type=Path, help=f"where history and message ids are kept "
                                                  f"(default $CHAT_DATA_DIR or "
                                                  f"{default_data_dir()})")
    parser.add_argument("--grace", type=cli.positive, default=GRACE,
                        help=f"seconds a subscriber may fail callbacks or miss heartbeats "
                             f"before it is dropped ({GRACE:g})")
    parser.add_argument("--queue", type=cli.whole(1, MAX_QUEUE), default=QUEUE_LIMIT,
                        help=f"events waiting for one subscriber before it is dropped "
                             f"({QUEUE_LIMIT})")
    parser.add_argument("--per-client", type=cli.whole(1, MAX_SUBSCRIBERS),
                        default=MAX_SUBSCRIBERS_PER_CLIENT,
                        help=f"subscribers one client (TLS subject and address) may have "
                             f"({MAX_SUBSCRIBERS_PER_CLIENT})")
    cli.add_server_options(parser)
    args = parser.parse_args(argv)
    cli.setup(args)
    peers.call_back_over_tls()
    data = args.data or default_data_dir()
    try:
        store = Store(data)
    except (OSError, sqlite3.Error) as exc:
        raise SetupError(f"cannot keep the chat store in {data}: {exc}",
                         "pick another --data directory (or CHAT_DATA_DIR)") from exc
    service = ChatService(grace=args.grace, queue_limit=args.queue, store=store,
                          per_client=args.per_client)
    service.start()
    try:
        Server([Registration(args.name, service, frozenset({names.CHAT_KIND}))],
               args.host, args.port).run()
    finally:
        service.stop()


if __name__ == "__main__":
    cli.run(main)
