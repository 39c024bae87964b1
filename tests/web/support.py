"""The web console as the tests drive it: over HTTP with a session, and in a real browser."""

from __future__ import annotations

import json
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


class Session:
    """An HTTP client of the console with a cookie jar, as a script would use the API."""

    def __init__(self, url: str, host_header: str | None = None) -> None:
        self.url = url
        self.host_header = host_header
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token: str | None = None

    def request(self, method: str, path: str, body: object = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict | str, dict]:
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
            with self.opener.open(request, timeout=30) as response:
                return response.status, decode(response), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, decode(exc), dict(exc.headers)

    def get(self, path: str) -> tuple[int, dict | str, dict]:
        return self.request("GET", path)

    def post(self, path: str, body: object = None) -> tuple[int, dict | str, dict]:
        if self.token is None:
            self.token = self.get("/api/session")[1]["csrf_token"]
        return self.request("POST", path, body if body is not None else {})


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


@contextmanager
def watched_page(browser, origin: str) -> Iterator[Watched]:
    """A fresh browser context (its own cookies) and page on the console at `origin`."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    try:
        yield Watched(context.new_page(), origin)
    finally:
        context.close()
