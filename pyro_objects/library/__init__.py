"""The client library: every front end (the prompt, the web console, the chat client, bench/)
calls the system through it, and gets typed results or the project's errors with their hints.

    from pyro_objects.library import Client
    client = Client(timeout=5.0)            # proxies per thread; calls wait at most 5 s
    client.greet("Ana")                     # 'Hi welcome Ana'
    client.chain("hello").hops              # [Hop(step='passed', node=1, ms=2.1), ...]
    client.names(kind="compute.worker")     # [NameEntry(...), ...]

It imports no front end: the prompt (pyro_objects.client) and the console (pyro_objects.web)
import it.
"""

from pyro_objects.library.client import Client
from pyro_objects.library.results import Hop, NameEntry, Ping, Posted, Round, as_json, text_of

__all__ = ["Client", "Hop", "NameEntry", "Ping", "Posted", "Round", "as_json", "text_of"]
