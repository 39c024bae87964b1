"""The ring's rules, without any networking: names, successors, messages and routes."""

from __future__ import annotations

import math
from collections.abc import Iterable

from pyro_objects import names

PREFIX = names.RING_PREFIX
MAX_ITEMS = 256
MAX_ITEM_CHARS = 1000
DEFAULT_MAX_HOPS = 64
MAX_NODE_CHARS = 64  # a hop's node given by name (a successor wired by hand with --next)


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


# The route line's start for each step: "passed on from " -> "passed".
LINE_STEPS = {text.removesuffix("{node}"): step for step, text in STEP_TEXTS.items()}
HOP_KEYS = {"step", "node", "ms"}


def route_limit(max_hops: int) -> int:
    """The most hops a route may have: each node passed (at most `max_hops`, and at most
    MAX_ITEMS, as each appends an item to the message), as many skipped, one complete."""
    return 2 * min(max_hops, MAX_ITEMS) + 1


MAX_ROUTE_HOPS = route_limit(MAX_ITEMS)  # for callers that do not know the ring's hop limit


def check_route(route: object, limit: int) -> list[dict]:
    """`route` if it is a traced route of at most `limit` hops ending with its one complete
    hop, each {"step", "node", "ms"}; else TypeError/ValueError naming the rule broken."""
    if not isinstance(route, list):
        raise TypeError(f"route must be a list of hops (got {type(route).__name__})")
    if not 1 <= len(route) <= limit:
        raise ValueError(f"route must have 1 to {limit} hops (got {len(route)})")
    for index, hop in enumerate(route):
        where = f"route[{index}]"
        if not isinstance(hop, dict):
            raise TypeError(f"{where} must be a dict of step, node and ms (got "
                            f"{type(hop).__name__})")
        if set(hop) != HOP_KEYS:
            raise ValueError(f"{where} must have the keys step, node and ms, no others")
        step, node, ms = hop["step"], hop["node"], hop["ms"]
        if not isinstance(step, str) or step not in STEP_TEXTS:
            raise ValueError(f"{where} step must be one of {', '.join(STEP_TEXTS)} "
                             f"(got {shown(step)})")
        if (step == "complete") != (index == len(route) - 1):
            raise ValueError(f"{where} step must be complete at the end of the route and only "
                             f"there (got {step})")
        if not (isinstance(node, int) and not isinstance(node, bool)
                and 1 <= node <= names.MAX_RING_NODE
                or isinstance(node, str) and 1 <= len(node) <= MAX_NODE_CHARS):
            raise ValueError(f"{where} node must be a node id from 1 to {names.MAX_RING_NODE} or "
                             f"a name of 1 to {MAX_NODE_CHARS} characters (got {shown(node)})")
        if ms is not None and not (isinstance(ms, (int, float)) and not isinstance(ms, bool)
                                   and math.isfinite(ms) and ms >= 0):
            raise ValueError(f"{where} ms must be a finite number >= 0 or None "
                             f"(got {shown(ms)})")
    return route


def parse_route(lines: object) -> list[dict]:
    """The hops of a route as process() returns it ("passed on from 1", ...): the inverse of
    hop_text, ms None; TypeError/ValueError for a line that is no route line."""
    if not isinstance(lines, list):
        raise TypeError(f"route must be a list of route lines (got {type(lines).__name__})")
    return [parse_line(index, line) for index, line in enumerate(lines)]


def parse_line(index: int, line: object) -> dict:
    """The hop of route line `index` ("skipped 2"): node an id where it reads as one."""
    if isinstance(line, str):
        for start, step in LINE_STEPS.items():
            if line.startswith(start):
                node = line[len(start):]
                return hop(step, names.node_number(node) or node, None)
    raise ValueError(f"route[{index}] must be a route line such as 'passed on from 1' "
                     f"(got {shown(line)})")


def shown(value: object) -> str:
    """`value` for an error message: short text and numbers as they are, else its type."""
    if isinstance(value, str) and len(value) <= 40 or isinstance(value, float) or (
            isinstance(value, int) and abs(value) < 10**40):
        return repr(value)
    if isinstance(value, str):
        return f"str of {len(value)} characters"
    return type(value).__name__


def hops(message: Iterable[str]) -> int:
    """How many ring nodes a message has crossed (each appends its name)."""
    return sum(1 for item in message if item.startswith(PREFIX))
