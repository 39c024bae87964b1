"""A chat server: python -m pyro_objects.chat [--name example.chat] [--grace SECONDS] [--queue EVENTS]

Serves chat rooms under a name (metadata kind "chat"), so several chat servers may run under
different names. Subscribers join with a callback object and get every event of their room.
"""

from __future__ import annotations

import argparse

from pyro_objects.chat import peers
from pyro_objects.chat.service import GRACE, QUEUE_LIMIT, ChatService
from pyro_objects import cli, names
from pyro_objects.serving import Registration, Server


def positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
        return value

    return parse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=names.CHAT, help=f"name to register ({names.CHAT})")
    parser.add_argument("--grace", type=positive(float), default=GRACE,
                        help=f"seconds a subscriber may fail callbacks or miss heartbeats "
                             f"before it is dropped ({GRACE:g})")
    parser.add_argument("--queue", type=positive(int), default=QUEUE_LIMIT,
                        help=f"events waiting for one subscriber before it is dropped "
                             f"({QUEUE_LIMIT})")
    cli.add_server_options(parser)
    args = parser.parse_args(argv)
    cli.setup(args)
    peers.call_back_over_tls()
    service = ChatService(grace=args.grace, queue_limit=args.queue)
    service.start()
    try:
        Server([Registration(args.name, service, frozenset({names.CHAT_KIND}))],
               args.host, args.port).run()
    finally:
        service.stop()


if __name__ == "__main__":
    cli.run(main)
