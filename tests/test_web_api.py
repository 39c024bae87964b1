"""The console's JSON API is what its OpenAPI document says: every /api route is in it, and
schemathesis, logged in with the CSRF token, finds no 500 and no answer that breaks it."""

from __future__ import annotations

import json
import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pyro_objects.processes import ROOT
from pyro_objects.system.local import LocalSystem
from pyro_objects.web import create_app, shutdown
from pyro_objects.web.openapi import DOCUMENT, TABLE_BEGIN, TABLE_END, with_table
from tests.web.support import add_user

USER, PASSWORD = "fuzzer", "correct horse battery"

README = ROOT / "README.md"


def no_internal_error(ctx, response, case) -> None:
    """A 500 is always a bug; 502 and 503 (the system failed or is down) are answers the
    document names, and status_code_conformance holds every other status to it."""
    if response.status_code == 500:
        raise ServerError(operation=case.operation.label, status_code=500)


CHECKS = [no_internal_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 60               # per operation and mode: the fuzz takes about 35 s here
# Fuzzed last, in this order: they end the chat session, or throttle or end the login.
LAST = ("POST /api/chat/leave", "POST /api/login", "POST /api/logout")
STREAM = "GET /api/pi/events"  # an endless stream: opened and checked by hand below


def api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route under /api/ in the app's URL map."""
    return {(method.lower(), re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule))
            for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


@pytest.mark.timeout(30)
def test_the_document_lists_every_api_route_and_nothing_else(tmp_path):
    app = create_app({"DATA_DIR": tmp_path})
    try:
        assert api_routes(app) == {(method, path) for path, methods in DOCUMENT["paths"].items()
                                   for method in methods}
        for path, methods in DOCUMENT["paths"].items():  # a POST needs the CSRF token
            for method, spec in methods.items():
                needs_csrf = any("csrf" in need for need in spec["security"])
                assert needs_csrf == (method == "post"), (method, path)
    finally:
        shutdown(app)


@pytest.mark.timeout(30)
def test_the_readme_api_table_is_the_documents():
    """python -m pyro_objects.web.openapi --readme README.md writes it; run that after changing
    the API."""
    readme = README.read_text()
    assert TABLE_BEGIN in readme and TABLE_END in readme
    assert with_table(readme) == readme


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A console that requires login, on a system of its own (no π workers: a run queued by
    the fuzzer fails at once instead of computing)."""
    workdir = tmp_path_factory.mktemp("web-api")
    with LocalSystem(workdir) as system:
        system.start_nameserver()
        system.start_server()
        system.start_ring()
        system.start_chat()
        add_user(workdir / "web", USER, PASSWORD)
        system.start_web("--require-login")
        yield system


def logged_in(url: str) -> requests.Session:
    """A session logged in as USER whose X-CSRF-Token follows every token the console gives."""
    session = requests.Session()

    def follow(response, *_args, **_kwargs) -> None:
        if response.headers.get("Content-Type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("csrf_token"), str):
                session.headers["X-CSRF-Token"] = body["csrf_token"]

    session.hooks["response"].append(follow)
    session.get(url + "api/session", timeout=10)
    answer = session.post(url + "api/login", json={"username": USER, "password": PASSWORD},
                          timeout=10)
    assert answer.status_code == 200, answer.text
    return session


@pytest.mark.timeout(240)
def test_fuzzing_every_operation_finds_no_500_and_no_answer_off_the_document(console):
    url = console.web_url()
    assert requests.get(url + "api/openapi.json", timeout=10).status_code == 401
    session = logged_in(url)
    assert session.get(url + "api/openapi.json", timeout=10).json() == \
        json.loads(json.dumps(DOCUMENT))
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.label in LAST, LAST.index(op.label)
                                        if op.label in LAST else 0, op.label))
    assert len(operations) == sum(len(methods) for methods in DOCUMENT["paths"].values())
    run = session.post(url + "api/pi/runs", json={"terms": 1000}, timeout=10)
    chat = session.post(url + "api/chat/join", json={"room": "fuzz"}, timeout=10)
    assert run.status_code == 202 and chat.status_code == 200, (run.text, chat.text)
    known = {"run_id": run.json()["id"], "session": chat.json()["session"]}
    for operation in operations:
        if operation.label == STREAM:
            with session.get(url + "api/pi/events", stream=True, timeout=10) as stream:
                assert stream.status_code == 200
                assert stream.headers["Content-Type"].startswith("text/event-stream")
                assert next(stream.iter_lines()) == b"retry: 2000"
            continue
        inputs = (operation.body, operation.query, operation.path_parameters,
                  operation.headers, operation.cookies)
        for mode in schemathesis.GenerationMode:
            if mode.is_positive or any(inputs):  # nothing to make wrong in a call of no inputs
                fuzz(operation, mode, session, url, known)


def fuzz(operation, mode, session: requests.Session, url: str, known: dict) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    def one(case, real: bool) -> None:
        if real:  # name a run or chat session that exists, to get past the 404
            if "run_id" in (case.path_parameters or {}):
                case.path_parameters["run_id"] = known["run_id"]
            if isinstance(case.body, dict) and "session" in case.body:
                case.body["session"] = known["session"]
        case.call_and_validate(base_url=url.rstrip("/"), session=session, checks=CHECKS,
                               timeout=30)

    one()
