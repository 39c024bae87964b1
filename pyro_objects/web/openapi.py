"""The JSON API under /api/ as an OpenAPI 3.1 document: served at /api/openapi.json, fuzzed
by the tests, and the source of the README's API table (python -m pyro_objects.web.openapi
--readme README.md)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from chain.ring import MAX_ITEM_CHARS
from pyro_objects.chat import rules
from pyro_objects.web import remote
from pyro_objects.web.api import (
    MAX_NUMBER_CHARS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RING_NODE,
    MAX_TERMS,
    MAX_WORKERS,
    PER_PAGE,
)
from pyro_objects.web.db import MAX_ID
from pyro_objects.web.jobs import MAX_QUEUED, MAX_QUEUED_PER_USER
from pyro_objects.web.shares import MAX_STREAMS, STREAMS_PER_OWNER

JSON = "application/json"
TABLE_BEGIN, TABLE_END = "<!-- openapi:begin -->", "<!-- openapi:end -->"


# --- schema pieces ----------------------------------------------------------------------------

def obj(required: str = "", **properties: dict) -> dict:
    """A JSON object with these `properties`; `required` names some of them (space-separated)."""
    return {"type": "object", "properties": properties,
            "required": required.split() if required else []}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STRING, BOOLEAN, NUMBER = {"type": "string"}, {"type": "boolean"}, {"type": "number"}
INTEGER = {"type": "integer"}
TIME = nullable(NUMBER)                          # Unix time, or not yet


def whole_text(high: int) -> dict:
    """What api.whole() takes: a whole number 1..high, or text such as "2e9" or "2*10**9"."""
    return {"anyOf": [{"type": "integer", "minimum": 1, "maximum": high},
                      {"type": "string", "maxLength": MAX_NUMBER_CHARS}, {"type": "null"}],
            "description": f'a whole number from 1 to {high:.4g}, or text such as "2e9"'}


NAME = {"type": "string", "pattern": rf"^[\w.-]{{1,{rules.MAX_NAME_CHARS}}}$",
        "description": f"1 to {rules.MAX_NAME_CHARS} letters, digits, '-', '_' or '.'"}
IDENT = {"type": "string", "pattern": rf"^[A-Za-z0-9_-]{{1,{rules.MAX_ID_CHARS}}}$"}
TEXT = {"type": "string", "minLength": 1, "maxLength": rules.MAX_TEXT_CHARS}
ERROR = obj("error", error=STRING, hint=STRING)
SESSION = obj("user login_required csrf_token", user=nullable(STRING),
              login_required=BOOLEAN, csrf_token=STRING)
LOGGED = obj("user csrf_token", user=nullable(STRING), csrf_token=STRING)
ENTRY = obj("name kind uri address metadata state rtt_ms since", name=STRING, kind=STRING,
            uri=STRING, address=STRING, metadata={"type": "array", "items": STRING},
            state={"enum": ["up", "down", "gone", "probing", "unknown"]},
            rtt_ms=nullable(NUMBER), since=TIME,
            last_state=nullable({"enum": ["up", "down", "gone", "probing"]}))
NAMES = obj("nameserver names updated error hint",
            nameserver=obj("location uri tls", location=STRING, uri=nullable(STRING),
                           tls=BOOLEAN),
            names={"type": "array", "items": ENTRY}, updated=TIME, error=nullable(STRING),
            hint=nullable(STRING))
PROCESS = obj("name pid state up_since restarts last_exit alive", name=STRING, pid=INTEGER,
              state={"enum": ["up", "restarting"]}, up_since=NUMBER, restarts=INTEGER,
              last_exit=nullable(INTEGER), alive=BOOLEAN)
PROCESSES = obj("supervised processes", supervised=BOOLEAN, pid=INTEGER, updated=NUMBER,
                processes={"type": "array", "items": PROCESS})
HISTORY_ROW = obj("id at who input ok output hint", id=INTEGER, at=NUMBER, who=STRING,
                  input=STRING, ok=BOOLEAN, output=STRING, hint=STRING)
RUN_STATES = ["queued", "running", "done", "failed", "cancelled", "interrupted"]
RUN = obj("id submitted who terms workers slice_terms state started finished error hint result",
          id=INTEGER, submitted=NUMBER, who=STRING, terms=INTEGER, workers=nullable(INTEGER),
          slice_terms=nullable(INTEGER), state={"enum": RUN_STATES}, started=TIME,
          finished=TIME, error=nullable(STRING), hint=nullable(STRING),
          result=nullable({"type": "object", "description": "the pi --json document"}))


def page_of(row: dict) -> dict:
    return obj("rows page per_page total pages", rows={"type": "array", "items": row},
               page=INTEGER, per_page=INTEGER, total=INTEGER, pages=INTEGER)


WORKER = obj("name terms slices rate lost", name=STRING, terms=INTEGER, slices=INTEGER,
             rate=NUMBER, lost=BOOLEAN)
LIVE = obj("version current queued finished", version=INTEGER,
           current=nullable(obj("id done terms seconds rate eta workers", id=INTEGER,
                                done=INTEGER, terms=INTEGER, seconds=NUMBER, rate=NUMBER,
                                eta=nullable(NUMBER),
                                workers={"type": "array", "items": WORKER})),
           queued={"type": "array", "items": obj("id terms who", id=INTEGER, terms=INTEGER,
                                                  who=STRING)},
           finished=nullable(INTEGER))
NODE = obj("id name state rtt_ms since address", id=INTEGER, name=nullable(STRING),
           state={"enum": ["up", "down", "gone", "probing", "unknown", "missing"]},
           rtt_ms=nullable(NUMBER), since=TIME, address=nullable(STRING))
RING = obj("size error hint nodes", size=INTEGER, error=nullable(STRING), hint=nullable(STRING),
           nodes={"type": "array", "items": NODE})
HOP = obj("step node ms text", step={"enum": ["passed", "skipped", "complete"]},
          node={"anyOf": [INTEGER, STRING]}, ms=nullable(NUMBER), text=STRING)
ROUND = obj("start message route hops ms", start=INTEGER, message=STRING,
            route={"type": "array", "items": STRING}, hops={"type": "array", "items": HOP},
            ms=NUMBER)

ERRORS = {  # status: when the console answers it
    400: "bad input (the error names the field and the rule), or a missing CSRF token",
    401: "login required, or a wrong user name or password",
    404: "no such run, chat session or path",
    409: "the run or message is in the wrong state for this",
    413: "the body is over 64 KiB",
    422: "the remote object refused the arguments",
    429: "too many: runs queued, your share of live streams or chat rooms, wrong passwords",
    502: "the remote object failed",
    503: "the system (name server, server, chat) cannot be reached, or too many streams",
}


# --- operations -------------------------------------------------------------------------------

def operation(summary: str, answer: dict | None, *errors: int, status: int = 200,
              body: dict | None = None, query: dict | None = None,
              media: str = JSON, forms: bool = False, open_: bool = False,
              failed: dict | None = None, csrf: bool = False) -> dict:
    """One operation: what it does, its `answer` (a schema for `media`), the error statuses
    it can give besides 400/401 (every call can), its JSON `body` and `query` parameters;
    `failed`: what a failed remote call answers instead of an error; `open_`: no login
    needed; `csrf`: the CSRF token is."""
    statuses = sorted({400, *errors} | (set() if open_ else {401}))
    error = {"anyOf": [ERROR, failed]} if failed else ERROR
    content = {media: {"schema": answer}} if answer is not None else {media: {}}
    spec: dict = {"summary": summary, "responses": {
        str(status): {"description": summary, "content": content},
        **{str(code): {"description": ERRORS[code], "content": {JSON: {"schema": error}}}
           for code in statuses}}}
    spec["security"] = [{"session": [], "csrf": []}] if csrf else [] if open_ else [
        {"session": []}]
    if body is not None:
        media_types = {JSON: {"schema": body}}
        if forms:
            media_types["application/x-www-form-urlencoded"] = {"schema": body}
        spec["requestBody"] = {"required": True, "content": media_types}
    if query:
        spec["parameters"] = [{"name": name, "in": "query", "required": False,
                               "schema": schema} for name, schema in query.items()]
    return spec


PAGING = {"page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
          "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                       "default": PER_PAGE}}
def post(summary: str, answer: dict | None, *errors: int, **options) -> dict:
    """A POST: it needs the CSRF token, and its body may be too large (413)."""
    return operation(summary, answer, 413, *errors, csrf=True, **options)


RUN_ID = {"name": "run_id", "in": "path", "required": True,
          "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def with_run_id(spec: dict) -> dict:
    return {**spec, "parameters": [RUN_ID, *spec.get("parameters", [])]}


PATHS = {
    "/api/session": {"get": operation(
        "the session: who is logged in, whether login is required, the CSRF token", SESSION,
        open_=True)},
    "/api/login": {"post": post(
        "log in: a new session and a new CSRF token", LOGGED, 401, 429, open_=True,
        body=obj("username password", username=STRING, password=STRING))},
    "/api/logout": {"post": post("log out", LOGGED)},
    "/api/health": {"get": operation("the console answers (no login needed)",
                                     obj("ok", ok={"const": True}), open_=True)},
    "/api/openapi.json": {"get": operation("this document", {"type": "object"})},
    "/api/names": {"get": operation(
        "every registered name, probed; q keeps names, kinds or addresses containing it",
        NAMES, query={"q": STRING, "kind": STRING})},
    "/api/processes": {"get": operation(
        "the processes pyro-objects up supervises (when the console runs under it): pid, "
        "alive, restarts, last exit code", PROCESSES)},
    "/api/calc": {"post": post(
        "run a calculator line (5 + 3, add 2 3, greet Ana): the history row; a failed call "
        "is the row with its error in output, under the call's status", HISTORY_ROW,
        422, 502, 503, failed=HISTORY_ROW,
        body=obj("input", input={"type": "string", "maxLength": remote.MAX_INPUT}))},
    "/api/history": {"get": operation("calculator history, newest first",
                                      page_of(HISTORY_ROW), query=PAGING)},
    "/api/pi/runs": {
        "post": post(f"queue a pi run (at most {MAX_QUEUED} queued, {MAX_QUEUED_PER_USER} "
                     f"a user)", RUN, 429,
                          status=202, body=obj("terms", terms=whole_text(MAX_TERMS),
                                               workers=whole_text(MAX_WORKERS),
                                               slice=whole_text(MAX_TERMS))),
        "get": operation("pi runs, newest first", page_of(RUN), query=PAGING)},
    "/api/pi/runs/{run_id}": {"get": with_run_id(operation("one pi run", RUN, 404))},
    "/api/pi/runs/{run_id}/cancel": {"post": with_run_id(post(
        "cancel a queued or running run (a running one stops within a slice)", RUN, 404, 409,
        status=202))},
    "/api/pi/runs/{run_id}/json": {"get": with_run_id(operation(
        "the run's pi --json document, as a download", {"type": "object"}, 404, 409))},
    "/api/pi/live": {"get": operation("the run going on and the queue, now", LIVE)},
    "/api/pi/events": {"get": operation(
        "server-sent events, each a /api/pi/live document: at once, then on each change "
        f"(at most 10 a second); {MAX_STREAMS} streams, {STREAMS_PER_OWNER} a user (or "
        f"address)", STRING, 429, 503, media="text/event-stream")},
    "/api/pi/plot.svg": {"get": operation("the error plot of finished runs", STRING,
                                          media="image/svg+xml")},
    "/api/ring": {"get": operation("the ring's nodes 1..K, each with its live state", RING)},
    "/api/ring/send": {"post": post(
        "send a message round the ring from node start", ROUND, 422, 502, 503,
        body=obj(message={"type": "string", "maxLength": MAX_ITEM_CHARS},
                 start=whole_text(MAX_RING_NODE)))},
    "/api/chat/join": {"post": post(
        "enter a room (nick: the user's own when logged in)",
        obj("session room nick", session=STRING, room=STRING, nick=STRING),
        422, 429, 502, 503, body=obj("room", room=NAME, nick=NAME))},
    "/api/chat/events": {"get": operation(
        "server-sent events: the room's events, numbered for Last-Event-ID", STRING, 404, 503,
        media="text/event-stream", query={"session": STRING})},
    "/api/chat/say": {"post": post(
        "post to the room; a retry with the same message_id posts at most once",
        obj("seq", seq=INTEGER), 404, 409, 503,
        body=obj("session text message_id", session=STRING, text=TEXT, message_id=IDENT))},
    "/api/chat/line": {"post": post(
        "a typed line, read as the terminal reads it: a message or /me posts (seq; at most "
        "once per message_id), /who, /rooms, /help answer notice lines, /join ROOM the new "
        "room's session, /quit leaves",
        obj("command", command={"enum": ["message", "me", "who", "rooms", "join", "help",
                                         "quit", "none"]},
            seq=INTEGER, notice={"type": "array", "items": STRING}, session=STRING,
            room=STRING, nick=STRING),
        404, 409, 422, 429, 502, 503,
        body=obj("session line", session=STRING, line=STRING, message_id=IDENT))},
    "/api/chat/leave": {"post": post(
        "leave the room", obj("left", left={"const": True}), 404, forms=True,
        body=obj("session", session=STRING))},
    "/api/chat/who": {"get": operation(
        "who is in a room", obj("room who", room=STRING, who={"type": "array",
                                                                "items": STRING}),
        422, 502, 503, query={"room": NAME})},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Pyro console", "version": "1",
             "description": "The web console's JSON API. Errors are {error, hint}. Every POST "
                            "needs the session cookie and the header X-CSRF-Token with the "
                            "token from GET /api/session; with login on, log in first."},
    "components": {"securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "pyro_console"},
        "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}}},
    "paths": PATHS,
}


# --- the README's table -----------------------------------------------------------------------

def body_words(spec: dict) -> str:
    schema = spec.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema")
    if schema is None:
        return " ".join(f"?{p['name']}=" for p in spec.get("parameters", [])
                        if p["in"] == "query")
    required = set(schema["required"])
    return "{" + ", ".join(key if key in required else f"{key}?"
                           for key in schema["properties"]) + "}"


def shape(schema: dict) -> str:
    """An object schema's keys, as the table shows them: {id, at, who, ...}."""
    keys = schema.get("properties")
    return "{" + ", ".join(keys) + "}" if keys else ""


def table() -> str:
    """The README's API table: one row per operation, from DOCUMENT."""
    rows = ["| call | what | body / query | answer | errors |", "|---|---|---|---|---|"]
    for path, methods in PATHS.items():
        for method, spec in methods.items():
            ok = next(code for code in spec["responses"] if code < "400")
            media, content = next(iter(spec["responses"][ok]["content"].items()))
            answer = shape(content.get("schema", {})) if media == JSON else media
            errors = ", ".join(code for code in spec["responses"] if code >= "400")
            shown = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), path)
            words = body_words(spec)
            rows.append(f"| `{method.upper()} {shown}` | {spec['summary']} | "
                        f"{f'`{words}`' if words else ''} | "
                        f"{f'{ok} `{answer}`' if answer else ok} | {errors} |")
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """`readme` with the text between the table markers replaced by table()."""
    begin, end = readme.index(TABLE_BEGIN) + len(TABLE_BEGIN), readme.index(TABLE_END)
    return f"{readme[:begin]}\n{table()}\n{readme[end:]}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pyro_objects.web.openapi",
                                     description=__doc__)
    parser.add_argument("--readme", type=Path, metavar="README",
                        help="rewrite the API table in this file (the checkout's README.md) "
                             "from the document, instead of printing the document")
    readme = parser.parse_args().readme
    if readme:
        readme.write_text(with_table(readme.read_text()))
    else:
        print(json.dumps(DOCUMENT, indent=2))


if __name__ == "__main__":
    main()
