"""The web console as the tests drive it: over HTTP with a session, and in a real browser."""

from __future__ import annotations

import functools
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from pyro_objects.processes import ROOT, python
from pyro_objects.web.browser import launch, unavailable_reason

PAGES = {  # path: a selector that shows the page has drawn what its API gave it
    "": "#names tbody tr",
    "calc": "#history-page:not(:empty)",
    "pi": "#runs-page:not(:empty)",
    "ring": "#ring-drawing .node",
    "chat": "main h1",
}


class FromAddress(urllib.request.HTTPHandler):
    """Connects from a chosen loopback address (127.0.0.2, ...): another machine, as far as the
    console can tell."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection,
                                              source_address=(self.address, 0)), req)


class Session:
    """An HTTP client of the console with a cookie jar, as a script would use the API; from
    `source` (a loopback address) if given."""

    def __init__(self, url: str, host_header: str | None = None,
                 source: str | None = None) -> None:
        self.url = url
        self.host_header = host_header
        handlers = [urllib.request.HTTPCookieProcessor(CookieJar())]
        self.opener = urllib.request.build_opener(*handlers, *(
            [FromAddress(source)] if source else []))
        self.token: str | None = None

    def log_in(self, name: str, password: str) -> None:
        status, body, _ = self.post("/api/login", {"username": name, "password": password})
        assert status == 200, body
        self.token = body["csrf_token"]

    def stream(self, path: str) -> http.client.HTTPResponse | urllib.error.HTTPError:
        """An open server-sent event stream (close it when done), or the refusal."""
        request = urllib.request.Request(self.url + path.lstrip("/"))
        try:
            return self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:
            return exc

    def request(self, method: str, path: str, body: object = None,
                headers: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, dict | str, dict]:
        """(status, JSON body or text, headers); with the CSRF token once fetched."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token and method != "GET":
            sent.setdefault("X-CSRF-Token", self.token)
        if self.host_header:
            sent["Host"] = self.host_header
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, headers=sent,
                                         method=method)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, decode(response), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, decode(exc), dict(exc.headers)

    def get(self, path: str) -> tuple[int, dict | str, dict]:
        return self.request("GET", path)

    def post(self, path: str, body: object = None) -> tuple[int, dict | str, dict]:
        if self.token is None:
            self.token = self.get("/api/session")[1]["csrf_token"]
        return self.request("POST", path, body if body is not None else {})


def state_changing_routes(app) -> list[str]:
    """The path of every route taking a POST (ids as 1), from the app's URL map: a new route
    cannot be missed."""
    return sorted({re.sub(r"<[^>]+>", "1", rule.rule) for rule in app.url_map.iter_rules()
                   if rule.methods - {"GET", "HEAD", "OPTIONS"}})


def decode(response) -> dict | str:
    text = response.read().decode()
    if response.headers.get_content_type() == "application/json":
        return json.loads(text)
    return text


def add_user(data: Path, name: str, password: str) -> None:
    """pyro-objects web adduser NAME --password-stdin, as a script would."""
    import subprocess

    result = subprocess.run(python("-m", "pyro_objects.web", "adduser", name, "--data", str(data),
                                   "--password-stdin"), input=password + "\n", text=True,
                            capture_output=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def playwright():
    """Playwright, one per test module; skipped, saying how to enable it, where there is no
    browser to drive."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"browser tests need a browser: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    """Chromium (Debian's), one per test module."""
    chromium = launch(playwright)
    try:
        yield chromium
    finally:
        chromium.close()


class Watched:
    """A page whose console errors, uncaught exceptions, dialogs and requests are recorded."""

    def __init__(self, page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: None if r.url.startswith(origin) or
                r.url.startswith("data:") else self.foreign.append(r.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def unexpected_errors(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allowed)]


DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextmanager
def watched_page(browser, origin: str, viewport: dict[str, int] = DESKTOP) -> Iterator[Watched]:
    """A fresh browser context (its own cookies) and page on the console at `origin`."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    try:
        yield Watched(context.new_page(), origin)
    finally:
        context.close()


def page_paths(app) -> list[str]:
    """The path of every page (a GET route without arguments answering HTML), from the app's
    URL map: a new page cannot be missed."""
    client = app.test_client()
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(("/api/",
                                                                                "/static/")):
            continue
        response = client.get(rule.rule)
        if response.status_code == 200 and response.mimetype == "text/html":
            paths.append(rule.rule)
        response.close()
    return sorted(paths)


# Every element drawn outside the viewport, or outside the card or header it sits in; an element
# inside a box that scrolls sideways (a wide table in its scroller) is judged by that box.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (node) => ["auto", "scroll"].includes(getComputedStyle(node).overflowX);
  const name = (node) => node.tagName.toLowerCase() + (node.id ? `#${node.id}` : "") +
    [...node.classList].map((c) => `.${c}`).join("");
  const out = [];
  for (const node of document.body.querySelectorAll("*")) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not drawn
    let container = null;
    let scroller = false;
    for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) { scroller = true; break; }
      if (!container && up.matches(".card, header.top")) container = up;
    }
    if (scroller) continue;
    const left = container ? container.getBoundingClientRect().left : 0;
    const right = container ? container.getBoundingClientRect().right : width;
    if (box.right > right + 0.5 || box.left < left - 0.5) {
      out.push(`${name(node)} spans ${Math.round(box.left)}..${Math.round(box.right)} ` +
               `beyond ${container ? name(container) : "the viewport"} ` +
               `(${Math.round(left)}..${Math.round(right)})`);
    }
  }
  return out;
}"""


def layout_problems(page) -> list[str]:
    """What does not fit the page's width: the document scrolling sideways, and each element
    outside the viewport or its card or header (see OVERFLOWING)."""
    problems = page.evaluate(OVERFLOWING)
    scroll, width = page.evaluate("() => [document.documentElement.scrollWidth, "
                                  "document.documentElement.clientWidth]")
    if scroll > width:
        problems.insert(0, f"the page is {scroll} px wide in a {width} px viewport")
    return problems
