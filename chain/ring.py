"""The ring's rules, without any networking: names, successors, messages and routes."""

from __future__ import annotations

from collections.abc import Iterable

from pyro_objects import names

PREFIX = names.RING_PREFIX
MAX_ITEMS = 256
MAX_ITEM_CHARS = 1000
DEFAULT_MAX_HOPS = 64


def node_name(ident: int | str) -> str:
    """The name a node registers under: example.chainTopology.<ident>."""
    return f"{PREFIX}{ident}"


def node_id(name: str) -> int | None:
    """The numeric id in a node name, or None for names that are not ring nodes."""
    suffix = name[len(PREFIX):] if name.startswith(PREFIX) else ""
    return int(suffix) if suffix.isdigit() else None


def successor(ident: int, size: int) -> int:
    """The next node of a ring of `size` nodes numbered 1..size (size -> 1)."""
    return ident % size + 1


def ring_order(after: int, size: int) -> list[int]:
    """Every node id of the ring in forwarding order, starting after node `after`."""
    return [(after + step - 1) % size + 1 for step in range(1, size + 1)]


def check_message(message: object, max_hops: int) -> list[str]:
    """The message as a list of strings, or TypeError/ValueError naming the rule broken."""
    if not isinstance(message, (list, tuple)):
        raise TypeError(f"message must be a list of strings (got {type(message).__name__})")
    if len(message) > MAX_ITEMS:
        raise ValueError(f"message must have at most {MAX_ITEMS} items (got {len(message)})")
    for index, item in enumerate(message):
        if not isinstance(item, str):
            raise TypeError(f"message[{index}] must be a string (got {type(item).__name__})")
        if len(item) > MAX_ITEM_CHARS:
            raise ValueError(f"message[{index}] must be at most {MAX_ITEM_CHARS} characters "
                             f"(got {len(item)})")
    if hops(message) >= max_hops:
        raise ValueError(f"message crossed {hops(message)} nodes without coming back to a node "
                         f"it had passed (hop limit {max_hops}): the ring is misconfigured")
    return list(message)


def hops(message: Iterable[str]) -> int:
    """How many ring nodes a message has crossed (each appends its name)."""
    return sum(1 for item in message if item.startswith(PREFIX))
