"""The JSON API under /api/: what every page uses, and what scripts may use too."""

from __future__ import annotations

import argparse
import json
import time

from flask import Blueprint, Response, jsonify, request

from chain.ring import MAX_ITEM_CHARS
from compute.coordinator import check_request
from pyro_objects.library import as_json
from pyro_objects.library.commands import whole_number
from pyro_objects.names import MAX_RING_NODE, ring_node_id
from pyro_objects.web import auth, db, plot, remote, services, shares
from pyro_objects.web.errors import ApiError

bp = Blueprint("api", __name__, url_prefix="/api")

PER_PAGE, MAX_PER_PAGE = 20, 100
RUN_ID = f"<int(max={db.MAX_ID}):run_id>"  # a larger id in a URL is no run: 404
MAX_PAGE = 10**9  # SQLite integers end near 2**63; no history is this long
MAX_NUMBER_CHARS = 64      # a number typed as text: 2e9, 2_000_000_000, 2*10**9
MAX_TERMS, MAX_WORKERS = 2**50, 10_000  # of a π run (and of its slices)
MAX_GAPS = 256             # ring ids below the highest that are drawn even when not registered
STREAM_SECONDS = 300.0     # a live stream ends after this; EventSource reconnects by itself
HEARTBEAT = 15.0           # seconds between keep-alive comments on a quiet stream
MIN_GAP = 0.1              # a stream sends at most 10 updates a second (the latest state)


# --- request checking -----------------------------------------------------------------------

def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object",
                       "send Content-Type: application/json")
    return body


def text(body: dict, key: str, limit: int, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise ApiError(400, f"{key} must be a string")
    if len(value) > limit:
        raise ApiError(400, f"{key} must be at most {limit} characters (got {len(value)})")
    return value


def whole(body: dict, key: str, low: int, high: int) -> int | None:
    """An optional whole number: a JSON int, or text such as 2e9 or 2*10**9."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= MAX_NUMBER_CHARS:
        try:
            value = whole_number(value.strip())
        except argparse.ArgumentTypeError as exc:
            raise ApiError(400, f"{key} {exc}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{key} must be a whole number")
    if not low <= value <= high:
        raise ApiError(400, f"{key} must be from {low} to {high:.4g} (got {shown(value)})")
    return value


def shown(number: int) -> str:
    """`number` as 2e+09 in an error message; past a float's range, only how far out it is."""
    if abs(number) < 10**300:
        return f"{number:.4g}"
    return "more than 1e+300" if number > 0 else "less than -1e+300"


def page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", PER_PAGE))
    except ValueError:
        raise ApiError(400, "page and per_page must be whole numbers") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, f"page must be from 1 to {MAX_PAGE} and per_page from 1 to "
                            f"{MAX_PER_PAGE}")
    return page, per_page


def paged(page: db.Page, rows: list[dict]) -> dict:
    return {"rows": rows, "page": page.page, "per_page": page.per_page, "total": page.total,
            "pages": page.pages}


# --- overview -------------------------------------------------------------------------------

@bp.get("/health")
def health():
    return jsonify(ok=True)


@bp.get("/openapi.json")
def openapi_document():
    """This API as an OpenAPI 3.1 document."""
    from pyro_objects.web.openapi import DOCUMENT  # it reads this module's limits

    return jsonify(DOCUMENT)


@bp.get("/names")
def names():
    """Every registered name, probed; ?q= keeps names, kinds or addresses containing it,
    ?kind= one kind."""
    snapshot = services().registry.snapshot().as_dict()
    query = request.args.get("q", "")[:200].lower()
    kind = request.args.get("kind")
    snapshot["names"] = [
        entry for entry in snapshot["names"]
        if (not kind or entry["kind"] == kind)
        and (not query or any(query in str(entry[key]).lower()
                              for key in ("name", "kind", "address", "metadata")))]
    return jsonify(snapshot)


# --- calculator -----------------------------------------------------------------------------

def history_row(row) -> dict:
    return {"id": row["id"], "at": row["at"], "who": row["who"], "input": row["input"],
            "ok": bool(row["ok"]), "output": row["output"], "hint": row["hint"]}


@bp.post("/calc")
def calc():
    line = text(json_body(), "input", remote.MAX_INPUT).strip()
    if not line:
        raise ApiError(400, "input is empty", "e.g. 5 + 3 * (2 - 1), add 2 3, greet Ana")
    outcome = remote.calculate(services().client, line)
    row = db.add_history(db.get_db(), auth.who(), line, outcome.ok, outcome.output,
                         outcome.hint)
    return jsonify(history_row(row)), outcome.status


@bp.get("/history")
def history():
    page = db.history_page(db.get_db(), *page_args())
    return jsonify(paged(page, [history_row(row) for row in page.rows]))


# --- π runs ---------------------------------------------------------------------------------

def run_view(row) -> dict:
    view = {key: row[key] for key in ("id", "submitted", "who", "terms", "workers",
                                      "slice_terms", "state", "started", "finished", "error",
                                      "hint")}
    view["result"] = json.loads(row["result"]) if row["result"] else None
    return view


def find_run(run_id: int):
    row = db.get_run(db.get_db(), run_id)
    if row is None:
        raise ApiError(404, f"no pi run {run_id}")
    return row


@bp.post("/pi/runs")
def submit_run():
    body = json_body()
    terms = whole(body, "terms", 1, MAX_TERMS)
    workers = whole(body, "workers", 1, MAX_WORKERS)
    slice_terms = whole(body, "slice", 1, MAX_TERMS)
    if terms is None:
        raise ApiError(400, "terms is required", "e.g. {\"terms\": \"1e9\"}")
    try:
        check_request(terms, workers, slice_terms)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    try:
        row = services().jobs.submit(db.get_db(), auth.who(), terms, workers, slice_terms)
    except OverflowError as exc:
        raise ApiError(429, str(exc), "wait for some to finish, or cancel some") from None
    return jsonify(run_view(row)), 202


@bp.get("/pi/runs")
def list_runs():
    page = db.runs_page(db.get_db(), *page_args())
    return jsonify(paged(page, [run_view(row) for row in page.rows]))


@bp.get(f"/pi/runs/{RUN_ID}")
def get_run(run_id: int):
    return jsonify(run_view(find_run(run_id)))


@bp.post(f"/pi/runs/{RUN_ID}/cancel")
def cancel_run(run_id: int):
    row = find_run(run_id)
    if not services().jobs.cancel(db.get_db(), run_id, auth.who()):
        raise ApiError(409, f"pi run {run_id} is {row['state']}, not queued or running")
    return jsonify(run_view(find_run(run_id))), 202


@bp.get(f"/pi/runs/{RUN_ID}/json")
def download_run(run_id: int):
    """The run exactly as `pi --json` writes it."""
    row = find_run(run_id)
    if row["result"] is None:
        raise ApiError(409, f"pi run {run_id} is {row['state']}: it has no result")
    return Response(row["result"] + "\n", mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="pi-run-{run_id}.json"'})


@bp.get("/pi/live")
def live():
    """The run going on and the queue, now (what /api/pi/events streams)."""
    return Response(services().jobs.live()[1], mimetype="application/json")


@bp.get("/pi/events")
def events():
    """Server-sent events: the live state at once, then each change (at most 10 a second)."""
    console = services()

    def stream():
        version, payload = console.jobs.live()
        yield f"retry: 2000\ndata: {payload}\n\n"
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not console.stopping.is_set():
            version, payload = console.jobs.wait_change(version, HEARTBEAT)
            yield ": keep-alive\n\n" if payload is None else f"data: {payload}\n\n"
            console.stopping.wait(MIN_GAP)  # coalesce: the next send is the latest state

    return console.streams.stream(stream(), shares.owner())


@bp.get("/pi/plot.svg")
def error_plot():
    return Response(plot.error_plot(db.error_points(db.get_db())), mimetype="image/svg+xml")


# --- ring -----------------------------------------------------------------------------------

@bp.get("/ring")
def ring():
    """The ring's nodes 1..K (K the highest seen), each with its live state."""
    snapshot = services().registry.snapshot()
    nodes = {ring_node_id(entry.name): entry for entry in snapshot.entries
             if ring_node_id(entry.name) is not None}  # invalid names skipped
    # Ids 1..K not registered are drawn as missing (up to MAX_GAPS of them).
    ids = sorted(set(nodes) | set(range(1, min(max(nodes, default=0), MAX_GAPS) + 1)))
    return jsonify(size=len(ids), error=snapshot.error, hint=snapshot.hint, nodes=[
        {"id": k, "name": nodes[k].name, "state": nodes[k].state, "rtt_ms": nodes[k].rtt_ms,
         "since": nodes[k].since, "address": nodes[k].address} if k in nodes else
        {"id": k, "name": None, "state": "missing", "rtt_ms": None, "since": None,
         "address": None}
        for k in ids])


@bp.post("/ring/send")
def ring_send():
    body = json_body()
    message = text(body, "message", MAX_ITEM_CHARS, "hello") or "hello"
    start = whole(body, "start", 1, MAX_RING_NODE) or 1
    try:
        trip = services().client.chain(message, start)
    except Exception as exc:  # noqa: BLE001 - failure() re-raises what is not the call's
        outcome = remote.failure(exc)
        raise ApiError(outcome.status, outcome.output, outcome.hint) from None
    return jsonify(as_json(trip))
