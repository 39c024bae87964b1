"""The names the system's objects register under, and the metadata that marks each kind.

Clients find objects by these names (`PYRONAME:server`), and by kind with a metadata query
(`ns.list(metadata_all={WORKER})`), as Pyro4's name server allows.
"""

GREETING = "server"                          # the Pyro4 tutorial's name, kept as it is
COMPUTE = "example.compute"
WORKER_PREFIX = "example.compute.worker."    # + HOST.PID: one per compute worker
RING_PREFIX = "example.chainTopology."       # + K: ring node K

# Metadata: the kind of object a name serves.
GREETING_KIND = "greeting"
COMPUTE_KIND = "compute"
WORKER_KIND = "compute.worker"
RING_KIND = "chain.node"

NAMESERVER = "Pyro.NameServer"               # Pyro4's own name for the name server

# What to call each kind when showing it to people (the web console's overview).
KIND_LABELS = {
    GREETING_KIND: "greeting",
    COMPUTE_KIND: "compute",
    WORKER_KIND: "worker",
    RING_KIND: "ring node",
}


def kind_of(name: str, metadata: object) -> str:
    """The label of what `name` serves: from its metadata, "name server", or "other"."""
    if name == NAMESERVER:
        return "name server"
    for kind, label in KIND_LABELS.items():
        if kind in metadata:
            return label
    return "other"


# The chat service (python -m pyro_objects.chat), and its kind.
CHAT = "example.chat"
CHAT_KIND = "chat"
KIND_LABELS[CHAT_KIND] = "chat"
