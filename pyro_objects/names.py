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


INVALID = "invalid"                          # the label of a name that breaks its own rules
MAX_RING_NODE = 10**6                        # the highest ring node id


def ring_node_id(name: str) -> int | None:
    """K of a ring node's name `example.chainTopology.K`, K from 1 to MAX_RING_NODE written in
    ASCII digits without a leading zero; None for any other name (`.²`, `.01`, `.x`)."""
    return node_number(name[len(RING_PREFIX):]) if name.startswith(RING_PREFIX) else None


def node_number(text: str) -> int | None:
    """`text` as a ring node id (strictly: ASCII digits, no leading zero, 1..MAX_RING_NODE)."""
    if not (text.isascii() and text.isdigit()) or text.startswith("0") \
            or len(text) > len(str(MAX_RING_NODE)):
        return None
    number = int(text)
    return number if number <= MAX_RING_NODE else None


def is_invalid(name: str) -> bool:
    """Whether `name` claims a kind's prefix but breaks its rules (a ring name without an id)."""
    return name.startswith(RING_PREFIX) and ring_node_id(name) is None


def kind_of(name: str, metadata: object) -> str:
    """The label of what `name` serves: from its metadata, "name server", "invalid" (a name
    that breaks its prefix's rules), or "other"."""
    if name == NAMESERVER:
        return "name server"
    if is_invalid(name):
        return INVALID
    for kind, label in KIND_LABELS.items():
        if kind in metadata:
            return label
    return "other"


# The chat service (python -m pyro_objects.chat), and its kind.
CHAT = "example.chat"
CHAT_KIND = "chat"
KIND_LABELS[CHAT_KIND] = "chat"
