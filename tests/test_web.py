"""The web console's routes and JSON API through Flask's test client, against a real system."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import signal
import subprocess
import threading
import time

import flask
import pytest
from werkzeug.security import check_password_hash

from compute.coordinator import PiRun, WorkerStats
from pyro_objects import names
from pyro_objects.library import Client
from pyro_objects.processes import ROOT, free_port, python, wait_until
from pyro_objects.web import auth, create_app, db, plot, registry, remote, shutdown
from pyro_objects.web.jobs import MAX_QUEUED, MAX_QUEUED_PER_USER, Jobs
from tests.support import name_server_of, run_client
from tests.web.support import state_changing_routes

PAGES = ["/", "/calc", "/pi", "/ring", "/chat"]
RUN_KEYS = [f.name for f in dataclasses.fields(PiRun)]
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def app(system, tmp_path_factory):
    """One console (no login: as on loopback) for the module, on the shared system."""
    with name_server_of(system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path_factory.mktemp("web")})
        try:
            yield console
        finally:
            shutdown(console)


@pytest.fixture
def client(app):
    return app.test_client()


def token(client) -> str:
    return client.get("/api/session").get_json()["csrf_token"]


def post(client, path: str, body: object = None, **kwargs):
    """A POST with this client's CSRF token, as the pages send it."""
    return client.post(path, json=body if body is not None else {},
                       headers={"X-CSRF-Token": token(client)}, **kwargs)


# --- pages and assets -------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_the_navigation_and_protective_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for label in ("Overview", "Calculator", "π", "Ring", "Chat"):
        assert f">{label}</a>" in html
    assert re.search(r'<meta name="csrf-token" content="[\w-]{40,}">', html)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_asset_a_page_uses_is_served_by_the_console(client):
    """No CDN: every script, stylesheet, icon and image comes from the console itself."""
    assets = set()
    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        assets |= set(re.findall(r'(?:src|href)="([^"#]+)"', html))
    assert assets, "no assets found"
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the console"
        response = client.get(asset)
        assert response.status_code in (200, 302), asset
        response.close()


def test_unknown_paths_are_404_as_json_under_api_and_as_a_page_elsewhere(client):
    api = client.get("/api/nothing")
    assert api.status_code == 404 and "error" in api.get_json()
    page = client.get("/nothing")
    assert page.status_code == 404 and page.mimetype == "text/html"
    wrong_method = client.get("/api/calc")
    assert wrong_method.status_code == 405 and "error" in wrong_method.get_json()


# --- session and CSRF ---------------------------------------------------------------------

def test_on_loopback_no_login_is_needed_and_the_session_gives_a_csrf_token(client):
    session = client.get("/api/session").get_json()
    assert session["user"] is None and session["login_required"] is False
    assert len(session["csrf_token"]) >= 40
    assert client.get("/api/session").get_json()["csrf_token"] == session["csrf_token"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("sent", [None, "wrong"])
def test_every_state_changing_call_needs_the_sessions_csrf_token(app, client, sent):
    """Every route that takes a POST, from the URL map: a new route cannot be missed."""
    routes = state_changing_routes(app)
    assert {"/api/calc", "/api/chat/say", "/login"} <= set(routes)
    token(client)  # the session has a token; the request does not carry it
    headers = {"X-CSRF-Token": sent} if sent else {}
    for path in routes:
        response = client.post(path, json={"input": "add 2 3"}, headers=headers)
        assert response.status_code == 400, path
        assert "CSRF" in response.get_data(as_text=True), path


@pytest.mark.timeout(30)
def test_every_template_escapes_the_text_it_is_given(app):
    """Each variable a template draws, set to markup, comes out as text (server-side: the
    browser tests see only what the pages' scripts draw)."""
    from jinja2 import meta

    drawn = 0
    for name in app.jinja_env.list_templates():
        source = app.jinja_env.loader.get_source(app.jinja_env, name)[0]
        variables = meta.find_undeclared_variables(app.jinja_env.parse(source))
        with app.test_request_context("/"):
            context: dict = {}
            app.update_template_context(context)  # what every page gets: not text to test
            given = {var: SCRIPT for var in variables - set(context) - {"request"}}
            html = flask.render_template(name, **given)
        assert SCRIPT not in html, (name, sorted(given))
        drawn += "&lt;script&gt;" in html
    assert drawn >= 2  # at least login.html (next, error) and error.html (message, hint)


@pytest.mark.timeout(30)
def test_the_login_page_draws_next_and_the_error_as_text(guarded):
    client = guarded.test_client()
    page = client.get("/login", query_string={"next": f'/"><{SCRIPT}'}).get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;" in page
    failed = client.post("/login", data={"username": SCRIPT, "password": "x",
                                         "csrf_token": token(client), "next": SCRIPT})
    assert failed.status_code == 401 and SCRIPT not in failed.get_data(as_text=True)


# --- calculator ---------------------------------------------------------------------------

CALCULATIONS = [  # input, status, ok, output
    ("5 + 3 * (2 - 1)", 200, True, "8"),
    ("calc 2 ** 10", 200, True, "1024"),
    ("pi * 2", 200, True, repr(math.pi * 2)),
    ("add 2 3", 200, True, "5"),
    ("div 1 3", 200, True, repr(1 / 3)),
    ("pislice 0 10", 200, True, None),
    ("greet Ana", 200, True, "Hi welcome Ana"),
    ("div 1 0", 422, False, "b must not be zero for div (got a=1, b=0)"),
    ("calc 9**9**9", 422, False, None),
    ("add x 2", 400, False, "argument A: must be a number (got 'x'); usage: add A B"),
    ("add 1", 400, False, "the following arguments are required: B; usage: add A B"),
]


@pytest.mark.parametrize(("line", "status", "ok", "output"), CALCULATIONS)
def test_the_calculator_gives_the_result_or_the_servers_error(client, line, status, ok, output):
    response = post(client, "/api/calc", {"input": line})
    assert response.status_code == status
    row = response.get_json()
    assert set(row) == {"id", "at", "who", "input", "ok", "output", "hint"}
    assert row["input"] == line and row["ok"] is ok and row["who"] == auth.ANONYMOUS
    if output is not None:
        assert row["output"] == output


def test_errors_read_exactly_as_the_prompt_prints_them(system, client):
    failing = [line for line, _, ok, _ in CALCULATIONS if not ok]
    prompt = run_client(system, stdin="\n".join(failing) + "\n")
    printed = [line.removeprefix("error: ") for line in prompt.stderr.splitlines()
               if line.startswith("error: ")]
    shown = [post(client, "/api/calc", {"input": line}).get_json()["output"] for line in failing]
    assert shown == printed


@pytest.mark.parametrize(("body", "error"), [
    ("not json", "must be a JSON object"),
    ([1, 2], "must be a JSON object"),
    ({}, "input must be a string"),
    ({"input": 5}, "input must be a string"),
    ({"input": "   "}, "input is empty"),
    ({"input": "1+" * 600}, "input must be at most 1100 characters"),
])
def test_calculator_input_is_checked_before_anything_is_called(client, body, error):
    response = client.post("/api/calc", data=body if isinstance(body, str) else json.dumps(body),
                           headers={"X-CSRF-Token": token(client),
                                    "Content-Type": "application/json"})
    assert response.status_code == 400
    assert error in response.get_json()["error"]


@pytest.mark.timeout(30)
def test_deeply_nested_json_is_a_400_on_every_route_that_takes_a_post(app, client):
    """RecursionError in the JSON parser was a 500 on every JSON route."""
    nested = "[" * 30_000 + "]" * 30_000
    routes = [path for path in state_changing_routes(app) if path.startswith("/api/")]
    assert {"/api/calc", "/api/login", "/api/chat/join", "/api/chat/say"} <= set(routes)
    for path in routes:
        response = client.post(path, data=nested, headers={
            "X-CSRF-Token": token(client), "Content-Type": "application/json"})
        if path in ("/api/logout", "/api/pi/runs/1/cancel"):  # bodies they do not read
            assert response.status_code < 500, path
        else:
            assert response.status_code == 400, path
            assert "JSON" in response.get_json()["error"], path


@pytest.mark.timeout(30)
def test_a_run_id_beyond_any_database_row_is_404(client):
    for huge in (2**63, 10**23):
        assert client.get(f"/api/pi/runs/{huge}").status_code == 404
        assert client.get(f"/api/pi/runs/{huge}/json").status_code == 404
        assert post(client, f"/api/pi/runs/{huge}/cancel").status_code == 404
    assert client.get(f"/api/pi/runs/{2**63 - 1}").get_json()["error"] == \
        f"no pi run {2**63 - 1}"


def test_a_request_body_over_64_kib_is_refused(client):
    response = post(client, "/api/calc", {"input": "x" * 70_000})
    assert response.status_code == 413 and "error" in response.get_json()


def test_remote_text_comes_back_as_json_never_as_html(client):
    response = post(client, "/api/calc", {"input": f"greet {SCRIPT}"})
    assert response.get_json()["output"] == f"Hi welcome {SCRIPT}"
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_history_is_newest_first_paginated_and_says_who(client):
    ids = [post(client, "/api/calc", {"input": f"add {n} 1"}).get_json()["id"] for n in range(3)]
    first = client.get("/api/history?page=1&per_page=2").get_json()
    assert set(first) == {"rows", "page", "per_page", "total", "pages"}
    assert [row["id"] for row in first["rows"]] == ids[::-1][:2]
    assert first["pages"] == -(-first["total"] // 2) and first["total"] >= 3
    second = client.get("/api/history?page=2&per_page=2").get_json()
    assert second["rows"][0]["id"] == ids[0]
    assert all(row["who"] == auth.ANONYMOUS for row in first["rows"])


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=0", "per_page=101",
                                   "page=9223372036854775807"])
def test_bad_page_arguments_are_refused(client, query):
    assert client.get(f"/api/history?{query}").status_code == 400
    assert client.get(f"/api/pi/runs?{query}").status_code == 400


# --- overview -----------------------------------------------------------------------------

def names_now(client, **query) -> dict:
    return client.get("/api/names", query_string=query).get_json()


def test_the_overview_lists_every_name_with_kind_address_metadata_and_state(system, client):
    with system.ns() as ns:
        registered = ns.list()
    expected_kinds = {names.NAMESERVER: "name server", names.GREETING: "greeting",
                      names.COMPUTE: "compute", f"{names.WORKER_PREFIX}1": "worker",
                      f"{names.RING_PREFIX}1": "ring node"}
    data = wait_until(lambda: (d := names_now(client)) and d["updated"] and all(
        e["state"] == "up" for e in d["names"] if e["name"] in registered) and d, 10,
        "every name probed")
    assert data["nameserver"] == {"location": f"127.0.0.1:{system.ns_port}", "tls": False,
                                  "uri": f"PYRO:Pyro.NameServer@127.0.0.1:{system.ns_port}"}
    listed = {entry["name"]: entry for entry in data["names"]}
    assert set(registered) <= set(listed)
    for name, kind in expected_kinds.items():
        entry = listed[name]
        assert entry["kind"] == kind and entry["uri"] == registered[name]
        assert entry["address"] == registered[name].split("@")[1]
        assert entry["state"] == "up" and 0 < entry["rtt_ms"] < 1000
    assert listed[names.GREETING]["metadata"] == [names.GREETING_KIND]


def test_the_overview_filters_by_text_and_by_kind(client):
    by_kind = names_now(client, kind="worker")["names"]
    assert by_kind and all(entry["kind"] == "worker" for entry in by_kind)
    by_text = names_now(client, q="CHAINTOPOLOGY")["names"]
    assert {entry["kind"] for entry in by_text} == {"ring node"}


def test_an_unknown_kind_is_other_and_a_dead_name_is_down_since_then_gone(system, client):
    with system.ns() as ns:
        greeting = ns.lookup(names.GREETING)
        ns.register("test.web.other", greeting)
        ns.register("test.web.dead", f"PYRO:dead@127.0.0.1:{free_port()}")
    began = time.time()
    try:
        def entries():
            return {e["name"]: e for e in names_now(client)["names"]}

        listed = wait_until(lambda: (e := entries()).get("test.web.dead", {}).get("state")
                            == "down" and e, 15, "the dead name probed")
        assert listed["test.web.other"]["kind"] == "other"
        assert began - 1 <= listed["test.web.dead"]["since"] <= time.time()
    finally:
        with system.ns() as ns:
            ns.remove("test.web.other")
            ns.remove("test.web.dead")
    gone = wait_until(lambda: entries()["test.web.other"]["state"] == "gone" and entries(),
                      15, "the removed name shown gone")
    assert gone["test.web.other"]["since"] >= began


def test_a_hung_server_never_blocks_a_page(own_system, tmp_path):
    """Its calls fail after the short timeout, and every other page answers meanwhile."""
    own_system.start_nameserver()
    server = own_system.start_server()
    with name_server_of(own_system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path / "web"})
        client = console.test_client()
        os.kill(server.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            row = post(client, "/api/calc", {"input": "add 2 3"})
            waited = time.monotonic() - began
            assert row.status_code == 503
            assert row.get_json()["output"] == (f"{names.COMPUTE} did not answer within "
                                                f"{remote.CALL_TIMEOUT:g}s")
            assert remote.CALL_TIMEOUT <= waited < remote.CALL_TIMEOUT + 3
            for path in ("/api/names", "/api/history", "/", "/api/ring"):
                began = time.monotonic()
                assert client.get(path).status_code == 200
                assert time.monotonic() - began < 1.5, path
        finally:
            os.kill(server.pid, signal.SIGCONT)
            shutdown(console)


@pytest.fixture
def watched_names(own_system, tmp_path):
    """A console (in this process) watching a name server of its own, whose names are up."""
    own_system.start_nameserver()
    own_system.start_server()
    with name_server_of(own_system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path / "web"})
        try:
            client = console.test_client()
            wait_until(lambda: every_state(client) == {"up"}, 15, "every name probed up")
            yield client
        finally:
            shutdown(console)


def every_state(client) -> set[str]:
    return {entry["state"] for entry in names_now(client)["names"]}


def unknown_within(client, seconds: float) -> dict:
    """The listing once every name is unknown, which must be within `seconds`."""
    began = time.monotonic()
    data = wait_until(lambda: every_state(client) == {"unknown"} and names_now(client), 10,
                      "every name unknown")
    assert time.monotonic() - began <= seconds
    return data


@pytest.mark.timeout(60)
def test_when_the_name_server_stops_every_name_is_unknown_within_5_s_then_probed_again(
        own_system, watched_names):
    client = watched_names
    probed = names_now(client)["updated"]
    own_system.stop("nameserver")
    data = unknown_within(client, 5)
    assert data["error"] == f"no name server reachable at 127.0.0.1:{own_system.ns_port}"
    assert data["hint"]
    assert {entry["last_state"] for entry in data["names"]} == {"up"}
    assert data["updated"] == probed  # no probe since, and the page says when the last was
    restarted = time.time()
    own_system.start_nameserver()
    back = wait_until(lambda: (d := names_now(client))["updated"] > restarted and d, 10,
                      "a listing after the restart")
    assert back["error"] is None
    assert {entry["state"] for entry in back["names"]} == {"up"}
    assert {entry["last_state"] for entry in back["names"]} == {None}


@pytest.mark.timeout(60)
def test_a_hung_name_server_is_listed_within_list_timeout_and_its_names_are_unknown(
        own_system, watched_names):
    client = watched_names
    nameserver = own_system.processes["nameserver"]
    os.kill(nameserver.pid, signal.SIGSTOP)
    try:
        data = unknown_within(client, 5)
        assert data["error"] == (f"the name server at 127.0.0.1:{own_system.ns_port} did not "
                                 f"answer within {registry.LIST_TIMEOUT:g}s")
        began = time.monotonic()
        assert client.get("/").status_code == 200 and names_now(client)["error"]
        assert time.monotonic() - began < 1
    finally:
        os.kill(nameserver.pid, signal.SIGCONT)
    wait_until(lambda: every_state(client) == {"up"}, 15, "every name up again")


# --- π runs ------------------------------------------------------------------------------

def finished_run(client, run_id: int, timeout: float = 60) -> dict:
    return wait_until(lambda: (r := client.get(f"/api/pi/runs/{run_id}").get_json())["state"]
                      not in ("queued", "running") and r, timeout, f"pi run {run_id}")


def test_a_pi_run_is_a_job_whose_result_has_the_keys_of_pi_json(client):
    submitted = post(client, "/api/pi/runs", {"terms": "2e8", "workers": 2})
    assert submitted.status_code == 202
    run = submitted.get_json()
    assert run["state"] == "queued" and run["terms"] == 200_000_000 and run["workers"] == 2
    done = finished_run(client, run["id"])
    assert done["state"] == "done" and done["error"] is None
    result = done["result"]
    assert list(result) == RUN_KEYS
    assert abs(result["pi"] - math.pi) <= 1 / 200_000_000 == result["bound"]
    assert [list(w) for w in result["workers"]] == [[f.name for f in
                                                     dataclasses.fields(WorkerStats)]] * 2
    download = client.get(f"/api/pi/runs/{run['id']}/json")
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"] == \
        f'attachment; filename="pi-run-{run["id"]}.json"'
    assert json.loads(download.get_data()) == result
    assert list(json.loads(download.get_data())) == RUN_KEYS
    runs = client.get("/api/pi/runs").get_json()
    assert runs["rows"][0]["id"] == run["id"] and runs["rows"][0]["who"] == auth.ANONYMOUS


@pytest.mark.parametrize(("body", "error"), [
    ({}, "terms is required"),
    ({"terms": 0}, "terms must be from 1"),
    ({"terms": "x"}, "terms must be a whole number (got 'x')"),
    ({"terms": "1.5"}, "must be a whole number"),
    ({"terms": 2**51}, "terms must be from 1"),
    ({"terms": True}, "terms must be a whole number"),
    ({"terms": "9" * 65}, "terms must be a whole number"),
    ({"terms": 1000, "workers": 0}, "workers must be from 1"),
    ({"terms": 1000, "slice": "-5"}, "slice must be from 1"),
    ({"terms": 1000, "slice": 2**40}, "slice must be an int from 1 to"),
    ({"terms": "1e9", "slice": 1}, "slice must be at least 100000 for 1000000000 terms: at "
                                   "most 10000 slices a run (got 1)"),
    ({"terms": 10**400}, "terms must be from 1 to 1.126e+15 (got more than 1e+300)"),
    ({"terms": "10**400"}, "terms must be from 1 to 1.126e+15 (got more than 1e+300)"),
    ({"terms": -10**400}, "terms must be from 1 to 1.126e+15 (got less than -1e+300)"),
    ({"terms": 1000, "workers": 10**400}, "workers must be from 1 to 1e+04 (got more than"),
])
def test_a_bad_pi_request_is_refused_with_the_rule(client, body, error):
    response = post(client, "/api/pi/runs", body)
    assert response.status_code == 400
    assert error in response.get_json()["error"]


def test_runs_queue_one_at_a_time_and_cancel(client):
    long = post(client, "/api/pi/runs", {"terms": "2e12"}).get_json()
    queued = post(client, "/api/pi/runs", {"terms": "1e6"}).get_json()
    wait_until(lambda: client.get(f"/api/pi/runs/{long['id']}").get_json()["state"]
               == "running", 10, "the long run to start")
    live = wait_until(lambda: (v := json.loads(client.get("/api/pi/live").get_data()))[
        "current"] and v["current"]["done"] and v, 10, "progress")
    assert live["queued"] == [{"id": queued["id"], "terms": 1_000_000, "who": "local"}]
    progress = live["current"]
    assert progress["id"] == long["id"] and progress["terms"] == 2 * 10**12
    assert sum(w["terms"] for w in progress["workers"]) == progress["done"]
    assert [w["name"] for w in progress["workers"]] == [f"{names.WORKER_PREFIX}{k}"
                                                        for k in (1, 2)]
    assert progress["eta"] > 0 and progress["rate"] > 0
    assert client.get(f"/api/pi/runs/{queued['id']}").get_json()["state"] == "queued"

    assert post(client, f"/api/pi/runs/{queued['id']}/cancel").status_code == 202
    assert client.get(f"/api/pi/runs/{queued['id']}").get_json()["state"] == "cancelled"
    assert post(client, f"/api/pi/runs/{long['id']}/cancel").status_code == 202
    cancelled = finished_run(client, long["id"], timeout=10)
    assert cancelled["state"] == "cancelled" and cancelled["result"] is None
    assert re.match(r"cancelled by local: pi cancelled after \S+ of 2e\+12 terms",
                    cancelled["error"])
    again = post(client, f"/api/pi/runs/{long['id']}/cancel")
    assert again.status_code == 409 and "is cancelled" in again.get_json()["error"]
    assert post(client, "/api/pi/runs/999999/cancel").status_code == 404
    assert client.get(f"/api/pi/runs/{long['id']}/json").status_code == 409


def test_the_queue_is_bounded(system, tmp_path):
    with name_server_of(system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path, "PI_MAX_QUEUED": 1})
    client = console.test_client()
    try:
        first = post(client, "/api/pi/runs", {"terms": "2e12"}).get_json()
        wait_until(lambda: client.get(f"/api/pi/runs/{first['id']}").get_json()["state"]
                   == "running", 10, "the first run to start")
        assert post(client, "/api/pi/runs", {"terms": 1000}).status_code == 202
        refused = post(client, "/api/pi/runs", {"terms": 1000})
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "1 runs are queued already"
    finally:
        shutdown(console)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("users", "accepted", "refusal"), [
    (60, 20, "20 runs are queued already"),
    (1, 5, "user0 has 5 runs queued already (at most 5 a user)")])
def test_the_queue_caps_hold_under_concurrent_submits(tmp_path, users, accepted, refusal):
    """60 submits at once from `users` users: exactly the cap (20, or 5 a user) are queued."""
    assert (MAX_QUEUED, MAX_QUEUED_PER_USER) == (20, 5)
    path = tmp_path / "web.sqlite"
    db.init_db(path)
    jobs = Jobs(path, Client())  # its runner not started: nothing leaves the queue
    start, statuses, refusals = threading.Barrier(60), [], set()

    def submit(n: int) -> None:
        with db.connection(path) as conn:
            start.wait(10)
            try:
                jobs.submit(conn, f"user{n % users}", 1000, None, None)
                statuses.append(202)
            except OverflowError as exc:
                statuses.append(429)
                refusals.add(str(exc))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [202] * accepted + [429] * (60 - accepted)
    assert refusals == {refusal}
    with db.connection(path) as conn:
        assert len(db.queued_runs(conn)) == accepted


def test_a_run_going_when_the_console_stops_is_interrupted_never_lost(system, tmp_path):
    with name_server_of(system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path})
        client = console.test_client()
        run = post(client, "/api/pi/runs", {"terms": "2e12"}).get_json()
        wait_until(lambda: client.get(f"/api/pi/runs/{run['id']}").get_json()["state"]
                   == "running", 10, "the run to start")
        shutdown(console)  # a clean stop
        with db.connection(tmp_path / "web.sqlite") as conn:
            row = db.get_run(conn, run["id"])
            assert row["state"] == "interrupted"
            assert row["error"].startswith("the console stopped during this run (pi cancelled")
            # A console killed mid-run leaves its run 'running': the next start says so.
            crashed = db.add_run(conn, "local", 10, None, None)["id"]
            assert db.claim_next_run(conn)["id"] == crashed
        restarted = create_app({"TESTING": True, "DATA_DIR": tmp_path})
        try:
            row = restarted.test_client().get(f"/api/pi/runs/{crashed}").get_json()
            assert row["state"] == "interrupted"
            assert row["error"] == "the console stopped during this run"
        finally:
            shutdown(restarted)


def test_the_live_stream_sends_the_state_at_once_and_is_bounded(system, tmp_path):
    with name_server_of(system):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path, "MAX_STREAMS": 1})
    client = console.test_client()
    try:
        stream = client.get("/api/pi/events", buffered=False)
        assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
        first = next(stream.response).decode()
        assert first.startswith("retry: 2000\ndata: ")
        assert set(json.loads(first.split("data: ", 1)[1])) == {"version", "current", "queued",
                                                                "finished"}
        refused = client.get("/api/pi/events")
        assert refused.status_code == 503
        assert "1 live streams are open already" in refused.get_json()["error"]
        stream.close()  # its slot is free again
        again = client.get("/api/pi/events", buffered=False)
        assert again.status_code == 200
        again.close()
    finally:
        shutdown(console)


def test_the_error_plot_draws_every_finished_run_and_the_bound(client):
    response = client.get("/api/pi/plot.svg")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    done = [r for r in client.get("/api/pi/runs?per_page=100").get_json()["rows"]
            if r["state"] == "done"]
    assert svg.count('<circle class="run"') == len(done) >= 1
    assert svg.count('class="bound"') == 1


def test_the_plot_puts_runs_on_log_log_axes_with_the_bound_as_y_equals_minus_x():
    svg = plot.error_plot([(10**3, 1e-3), (10**9, 1e-9)])
    points = re.findall(r'<circle class="run" cx="([\d.]+)" cy="([\d.]+)"', svg)
    bound = re.search(r'class="bound" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"',
                      svg).groups()
    (x1, y1), (x2, y2) = [(float(x), float(y)) for x, y in points]
    bx1, by1, bx2, by2 = map(float, bound)
    slope = (by2 - by1) / (bx2 - bx1)
    assert (y2 - y1) / (x2 - x1) == pytest.approx(slope, rel=1e-2)  # both on y = -x
    assert "10⁻⁹" in svg and "10⁹" in svg
    assert "no finished runs yet" in plot.error_plot([])


@pytest.mark.timeout(30)
def test_the_plot_writes_each_error_as_the_prompt_prints_it():
    svg = plot.error_plot([(10**9, -1e-9), (10**3, 9.9995e-4)])
    assert re.findall(r"\|error\| = (\S+)</title>", svg) == ["1.000e-09", "1.000e-03"]
    assert plot.scientific(1e-9) == f"{1e-9:.3e}" == "1.000e-09"


# --- ring ---------------------------------------------------------------------------------

def test_the_ring_lists_its_nodes_and_sends_a_message_round(client):
    ring = wait_until(lambda: (r := client.get("/api/ring").get_json())["nodes"] and all(
        n["state"] == "up" for n in r["nodes"]) and r, 10, "the ring probed")
    assert [node["id"] for node in ring["nodes"]] == [1, 2, 3] and ring["size"] == 3
    sent = post(client, "/api/ring/send", {"message": "hi", "start": 2}).get_json()
    assert sent["route"] == ["passed on from 2", "passed on from 3", "passed on from 1",
                             "complete at 2"]
    assert [(h["step"], h["node"]) for h in sent["hops"]] == [
        ("passed", 2), ("passed", 3), ("passed", 1), ("complete", 2)]
    assert 0 < sent["ms"] < 5000


def test_each_hop_comes_back_with_its_node_step_and_time(client):
    """The ring's structured hops (from the nodes' trace()), beside the tutorial's route."""
    sent = post(client, "/api/ring/send", {"message": "timed"}).get_json()
    assert [hop["text"] for hop in sent["hops"]] == sent["route"]
    passed = [hop["ms"] for hop in sent["hops"] if hop["step"] == "passed"]
    assert len(passed) == 3 and all(isinstance(ms, float) for ms in passed)
    # A node's time holds the time of every node after it; the caller's holds them all.
    assert sent["ms"] >= passed[0] >= passed[1] >= passed[2] > 0
    assert sent["hops"][-1] == {"step": "complete", "node": 1, "ms": 0.0,
                                "text": "complete at 1"}


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"message": "x" * 1001}, 400, "message must be at most 1000 characters"),
    ({"message": 5}, 400, "message must be a string"),
    ({"start": 0}, 400, "start must be from 1"),
    ({"start": "two"}, 400, "start must be a whole number"),
    ({"start": 99}, 503, "no object named 'example.chainTopology.99' is registered"),
    ({"start": 10**400}, 400, "start must be from 1 to 1e+06 (got more than 1e+300)"),
])
def test_a_bad_ring_message_is_refused(client, body, status, error):
    response = post(client, "/api/ring/send", body)
    assert response.status_code == status
    assert error in response.get_json()["error"]


@pytest.mark.timeout(40)
def test_a_registry_name_the_ring_cannot_parse_never_breaks_the_ring_page(system, client):
    odd = names.RING_PREFIX + "²"
    with system.ns() as ns:
        ns.register(odd, ns.lookup(names.GREETING))
    try:
        wait_until(lambda: any(e["name"] == odd for e in names_now(client)["names"]), 15,
                   "the odd name listed")
        ring = client.get("/api/ring")
        assert ring.status_code == 200
        assert odd not in {node["name"] for node in ring.get_json()["nodes"]}
    finally:
        with system.ns() as ns:
            ns.remove(odd)


# --- accounts ----------------------------------------------------------------------------

@pytest.fixture
def guarded(tmp_path):
    """A console that requires login (as when bound beyond loopback), with user alice."""
    console = create_app({"TESTING": True, "DATA_DIR": tmp_path, "LOGIN_REQUIRED": True})
    with db.connection(console.config["DATABASE"]) as conn:
        db.add_user(conn, "alice", auth.hash_password("correct horse"))
    try:
        yield console
    finally:
        shutdown(console)


def log_in(client, password: str = "correct horse", name: str = "alice"):
    return client.post("/api/login", json={"username": name, "password": password},
                       headers={"X-CSRF-Token": token(client)})


@pytest.mark.parametrize("path", PAGES)
def test_with_login_required_every_page_sends_you_to_log_in(guarded, path):
    response = guarded.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/api/names", "/api/history", "/api/pi/runs", "/api/ring",
                                  "/api/pi/events", "/api/pi/plot.svg"])
def test_with_login_required_the_api_answers_401(guarded, path):
    response = guarded.test_client().get(path)
    assert response.status_code == 401 and response.get_json()["error"] == "login required"


def test_the_login_page_the_stylesheet_and_the_health_check_stay_open(guarded):
    client = guarded.test_client()
    for path in ("/login", "/static/style.css", "/api/health", "/api/session"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_logging_in_gives_an_httponly_samesite_session_and_history_records_who(guarded):
    client = guarded.test_client()
    assert log_in(client, "wrong password").status_code == 401
    before = token(client)
    response = log_in(client)
    assert response.status_code == 200 and response.get_json()["user"] == "alice"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert token(client) != before  # a new session, with a new token
    assert client.get("/calc").status_code == 200
    row = post(client, "/api/calc", {"input": "add 2 3"}).get_json()  # no system: an error
    assert row["who"] == "alice"
    assert client.get("/api/history").get_json()["rows"][0]["who"] == "alice"
    post(client, "/api/logout")
    assert client.get("/api/history").status_code == 401


COOKIE = "pyro_console"


def replayed(app, cookie: str):
    """A fresh client holding only `cookie`, as a saved cookie replayed later."""
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client


@pytest.mark.parametrize(("path", "status"), [("/api/logout", 200), ("/logout", 302)])
def test_a_session_ends_at_logout_even_for_a_saved_cookie(guarded, path, status):
    client = guarded.test_client()
    assert log_in(client).status_code == 200
    saved = client.get_cookie(COOKIE).value
    assert replayed(guarded, saved).get("/api/history").status_code == 200
    assert post(client, path).status_code == status
    assert replayed(guarded, saved).get("/api/history").status_code == 401


def test_the_session_cookie_does_not_slide(guarded):
    """The cookie is sent at login, not renewed on every response."""
    client = guarded.test_client()
    log_in(client)
    response = client.get("/api/history")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("column", "limit"), [("created", auth.SESSION_LIFETIME),
                                                ("seen", auth.SESSION_IDLE)])
def test_a_session_ends_after_12_hours_or_when_idle_too_long(guarded, column, limit):
    assert (auth.SESSION_LIFETIME, auth.SESSION_IDLE) == (12 * 3600, 2 * 3600)
    client = guarded.test_client()
    log_in(client)
    assert client.get("/api/history").status_code == 200
    for age, status in [(limit - 60, 200), (limit + 1, 401)]:
        with db.connection(guarded.config["DATABASE"]) as conn, conn:  # as if time had passed
            conn.execute(f"UPDATE sessions SET {column} = ?", (time.time() - age,))
        assert client.get("/api/history").status_code == status


def test_sessions_survive_a_restart(guarded, tmp_path):
    client = guarded.test_client()
    log_in(client)
    restarted = create_app({"TESTING": True, "DATA_DIR": tmp_path, "LOGIN_REQUIRED": True})
    try:
        again = replayed(restarted, client.get_cookie(COOKIE).value)
        assert again.get("/api/session").get_json()["user"] == "alice"
    finally:
        shutdown(restarted)


@pytest.mark.parametrize(("command", "stdin"), [("deluser", ""),
                                                ("passwd", "a new password\n")])
def test_deluser_and_passwd_end_the_users_sessions_at_once(guarded, tmp_path, command, stdin):
    client = guarded.test_client()
    log_in(client)
    other = guarded.test_client()
    log_in(other)
    result = subprocess.run(python("-m", "pyro_objects.web", command, "alice",
                                   "--data", str(tmp_path),
                                   *(["--password-stdin"] if stdin else [])),
                            input=stdin, text=True, capture_output=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert client.get("/api/history").status_code == 401
    assert other.get("/api/history").status_code == 401
    if command == "passwd":
        assert result.stdout == "changed the password of alice\n"
        assert log_in(client).status_code == 401
        assert log_in(client, "a new password").status_code == 200


def test_the_login_form_logs_in_and_goes_where_you_were_going(guarded):
    client = guarded.test_client()
    form = {"username": "alice", "password": "correct horse", "csrf_token": token(client)}
    response = client.post("/login", data={**form, "next": "/pi"})
    assert response.status_code == 302 and response.headers["Location"] == "/pi"
    response = client.post("/login", data={**form, "csrf_token": token(client),
                                           "next": "//evil.example/"})
    assert response.headers["Location"] == "/"  # never to another site
    wrong = client.post("/login", data={**form, "csrf_token": token(client),
                                        "password": "nope"})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.get_data(True)


def test_wrong_passwords_are_rate_limited_per_account(guarded):
    with db.connection(guarded.config["DATABASE"]) as conn:
        db.add_user(conn, "bob", auth.hash_password("battery staple"))
    client = guarded.test_client()
    for _ in range(auth.Throttle.FREE["user"]):
        assert log_in(client, "wrong").status_code == 401
    refused = log_in(client)  # even the right password must wait now
    assert refused.status_code == 429
    assert "too many wrong passwords" in refused.get_json()["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= auth.Throttle.FIRST_WAIT + 1
    other = guarded.test_client()  # another account from the same address is not locked out
    assert log_in(other, "battery staple", name="bob").status_code == 200


@pytest.fixture
def conn(tmp_path):
    db.init_db(tmp_path / "web.sqlite")
    with db.connection(tmp_path / "web.sqlite") as connection:
        yield connection


def test_the_throttle_doubles_the_wait_and_forgets_after_success(conn):
    throttle, keys = auth.Throttle(), ["user:alice"]
    for _ in range(auth.Throttle.FREE["user"]):
        assert throttle.attempt(conn, keys, now=0) == 0
    assert throttle.attempt(conn, keys, now=0) == auth.Throttle.FIRST_WAIT
    assert throttle.attempt(conn, keys, now=auth.Throttle.FIRST_WAIT) == 0  # counted: 6
    later = auth.Throttle.FIRST_WAIT + 1  # the next must wait twice as long after the last
    assert throttle.attempt(conn, keys, now=later) == 2 * auth.Throttle.FIRST_WAIT - 1
    throttle.succeeded(conn, keys)
    assert throttle.attempt(conn, keys, now=later) == 0


def test_the_address_budget_is_separate_larger_and_survives_a_restart(conn, tmp_path):
    throttle, address = auth.Throttle(), "addr:192.0.2.1"
    assert auth.Throttle.FREE["addr"] >= 10 * auth.Throttle.FREE["user"]
    for n in range(auth.Throttle.FREE["addr"]):
        assert throttle.attempt(conn, [f"user:u{n}", address], now=0) == 0
    assert throttle.attempt(conn, ["user:other", address], now=0) == auth.Throttle.FIRST_WAIT
    with db.connection(tmp_path / "web.sqlite") as restarted:  # the count is in the database
        assert auth.Throttle().attempt(restarted, ["user:u0"], now=1) == 0
        assert auth.Throttle().attempt(restarted, [address], now=1) == \
            auth.Throttle.FIRST_WAIT - 1
    throttle.succeeded(conn, ["user:u0", address])  # a success takes its own attempt back
    assert throttle.attempt(conn, ["user:other", address], now=0) == 0


def test_passwords_are_stored_as_salted_scrypt_hashes(guarded):
    with db.connection(guarded.config["DATABASE"]) as conn:
        db.add_user(conn, "bob", auth.hash_password("correct horse"))
        alice, bob = db.password_hash(conn, "alice"), db.password_hash(conn, "bob")
    assert alice.startswith("scrypt:32768:8:1$") and alice != bob
    assert "correct horse" not in alice and check_password_hash(alice, "correct horse")


LYING_RING_NAMES = [f"{names.RING_PREFIX}²", f"{names.RING_PREFIX}01", f"{names.RING_PREFIX}x",
                    f"{names.RING_PREFIX}0", f"{names.RING_PREFIX}{10**7}",
                    f"{names.RING_PREFIX}{'9' * 5000}"]


@pytest.mark.timeout(60)
def test_ring_names_that_lie_are_shown_invalid_and_skipped_while_listed_and_after(system,
                                                                                   client):
    with system.ns() as ns:
        live = ns.lookup(names.GREETING)
        for name in LYING_RING_NAMES:
            ns.register(name, live)
    try:
        listed = wait_until(lambda: (e := {x["name"]: x for x in names_now(client)["names"]})
                            and all(name in e for name in LYING_RING_NAMES) and e, 15,
                            "the lying names listed")
        assert {listed[name]["kind"] for name in LYING_RING_NAMES} == {"invalid"}
        assert [e["name"] for e in names_now(client, kind="invalid")["names"]] == sorted(
            LYING_RING_NAMES)
        ring = client.get("/api/ring")
        assert ring.status_code == 200
        assert [node["id"] for node in ring.get_json()["nodes"]] == [1, 2, 3]
    finally:
        with system.ns() as ns:
            for name in LYING_RING_NAMES:
                ns.remove(name)
    wait_until(lambda: all(e["state"] == "gone" for e in names_now(client)["names"]
                           if e["name"] in LYING_RING_NAMES), 15, "the lying names gone")
    ring = client.get("/api/ring")
    assert ring.status_code == 200
    assert [node["id"] for node in ring.get_json()["nodes"]] == [1, 2, 3]


# --- private data ---------------------------------------------------------------------------

PRIVATE_FILES = ["web.sqlite", "web.sqlite-wal", "web.sqlite-shm", "secret_key"]


def modes(directory) -> dict[str, int]:
    """The permission bits of the data directory ("") and of each private file in it."""
    return {name: (directory / name).stat().st_mode & 0o777 for name in ["", *PRIVATE_FILES]
            if (directory / name).exists()}


@pytest.fixture
def open_umask():
    """Files made now are 0644 and directories 0755 unless the code says otherwise."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.timeout(30)
def test_a_new_data_directory_is_0700_and_its_files_0600(tmp_path, open_umask):
    data = tmp_path / "new" / "web"
    console = create_app({"TESTING": True, "DATA_DIR": data})
    try:
        with db.connection(console.config["DATABASE"]) as reader:  # keeps the WAL files open
            reader.execute("SELECT count(*) FROM history").fetchone()
            post(console.test_client(), "/api/calc", {"input": "2 + 2"})
            assert modes(data) == {"": 0o700, **dict.fromkeys(PRIVATE_FILES, 0o600)}
    finally:
        shutdown(console)


@pytest.mark.timeout(30)
def test_looser_modes_on_existing_data_are_tightened_and_logged(tmp_path, open_umask, caplog):
    data = tmp_path / "web"
    data.mkdir(mode=0o755)
    (data / "secret_key").write_text("k" * 64)
    db.init_db(data / "web.sqlite")
    with db.connection(data / "web.sqlite"):  # keeps the WAL files there
        for name in PRIVATE_FILES:
            (data / name).chmod(0o644)
        shutdown(create_app({"TESTING": True, "DATA_DIR": data}))
        assert modes(data) == {"": 0o700, **dict.fromkeys(PRIVATE_FILES, 0o600)}
    for name, was in [("", 0o755), *((name, 0o644) for name in PRIVATE_FILES)]:
        assert f"{data / name if name else data}: mode {was:o} let other users read it; " \
               f"now {0o700 if not name else 0o600:o}" in caplog.text


@pytest.mark.timeout(30)
def test_a_shared_directory_given_as_data_keeps_its_mode_and_the_files_are_0600(
        tmp_path, open_umask, caplog):
    """--data /tmp must not make /tmp 0700: only a directory of the console's own is changed."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "notes.txt").touch()
    db.init_db(shared / "web.sqlite")
    with db.connection(shared / "web.sqlite") as reader:  # keeps the WAL files there
        reader.execute("SELECT count(*) FROM history").fetchone()
        shutdown(create_app({"TESTING": True, "DATA_DIR": shared}))
        assert modes(shared) == {"": 0o755, **dict.fromkeys(PRIVATE_FILES, 0o600)}
    assert f"{shared}: mode 755 lets other users list it; left so" in caplog.text
