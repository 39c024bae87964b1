"""Peers to compare against, each serving add(a, b): Pyro5 and RPyC (optional extras).

    python -m bench.peer_servers pyro5|rpyc   # prints its address, serves until killed
"""

import sys


def serve_pyro5() -> None:
    import Pyro5.api

    @Pyro5.api.expose
    @Pyro5.api.behavior(instance_mode="single")
    class Compute:
        def add(self, a, b):
            return a + b

    with Pyro5.api.Daemon(host="127.0.0.1") as daemon:
        print(daemon.register(Compute, "bare"), flush=True)
        daemon.requestLoop()


def serve_rpyc() -> None:
    import rpyc
    from rpyc.utils.server import ThreadedServer

    class Compute(rpyc.Service):
        def exposed_add(self, a, b):
            return a + b

    server = ThreadedServer(Compute, hostname="127.0.0.1", port=0)
    print(server.port, flush=True)
    server.start()


if __name__ == "__main__":
    {"pyro5": serve_pyro5, "rpyc": serve_rpyc}[sys.argv[1]]()
