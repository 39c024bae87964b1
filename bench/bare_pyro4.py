"""A bare Pyro4 object with add(a, b) and no checks, on a stock Pyro4 daemon: the baseline
for our own server (its connection guards, argument checks and name keeping).

    python -m bench.bare_pyro4    # prints its URI, serves until killed
"""

import Pyro4


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class BareCompute:
    def add(self, a, b):
        return a + b


if __name__ == "__main__":
    with Pyro4.Daemon(host="127.0.0.1") as daemon:
        print(daemon.register(BareCompute, "bare"), flush=True)
        daemon.requestLoop()
