"""A bare Pyro4 object with add(a, b) and no checks: the baseline for our own server.

    python -m bench.bare_pyro4    # prints its URI, serves until killed
"""

import Pyro4

from pyrokit import config


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class BareCompute:
    def add(self, a, b):
        return a + b


if __name__ == "__main__":
    config.configure()  # the same Pyro4 settings as the project's servers
    with Pyro4.Daemon(host="127.0.0.1") as daemon:
        print(daemon.register(BareCompute, "bare"), flush=True)
        daemon.requestLoop()
