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


# A hop's step, and the route line the tutorial's `process` gives for it.
STEP_TEXTS = {"passed": "passed on from {node}", "skipped": "skipped {node}",
              "complete": "complete at {node}"}


def hop(step: str, node: int | str, ms: float | None) -> dict:
    """One hop of a traced route: what happened at `node` and how long it took (ms from the
    message reaching the node to its answer leaving it, or spent trying a skipped node)."""
    return {"step": step, "node": node, "ms": None if ms is None else round(ms, 3)}


def hop_text(hop: dict) -> str:
    """The route line of a hop: "passed on from 1", "skipped 2", "complete at 1"."""
    return STEP_TEXTS[hop["step"]].format(node=hop["node"])


def hops(message: Iterable[str]) -> int:
    """How many ring nodes a message has crossed (each appends its name)."""
    return sum(1 for item in message if item.startswith(PREFIX))
