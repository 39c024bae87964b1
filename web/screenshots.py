"""`make screenshots`: a PNG of each console page, with a freshly started system behind it.

    python -m pyro_objects.web.screenshots [DIR]        # default docs/screenshots

Drives Debian's Chromium with Playwright (see web/browser.py).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from pyro_objects import config
from pyro_objects.processes import ROOT, python, wait_until
from pyro_objects.system.local import LocalSystem
from pyro_objects.web.browser import launch, unavailable_reason

VIEWPORT = {"width": 1280, "height": 860}


def post(url: str, path: str, body: dict) -> dict:
    """A JSON POST to the console (with the CSRF token of a fresh session)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(url + "api/session", timeout=10) as response:
        token = json.load(response)["csrf_token"]
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "X-CSRF-Token": token})
    try:
        with opener.open(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:  # a refused calculation is part of the history
        return json.load(exc)


def get(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=10) as response:
        return json.load(response)


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots = []
    with tempfile.TemporaryDirectory(prefix="pyro-shots-") as workdir, \
            LocalSystem(Path(workdir)) as system, sync_playwright() as playwright:
        print("starting the system and the console ...", flush=True)
        system.start_all()
        url = system.start_web().url
        for line in ["5 + 3 * (2 - 1)", "add 2 3", "pow 2 100", "sqrt(2) * pi", "div 1 0",
                     "greet Ana", "pislice 0 1000000", "calc 9**9**9"]:
            post(url, "api/calc", {"input": line})
        for terms in ["1e6", "1e7", "1e8", "1e9", "4e9"]:
            post(url, "api/pi/runs", {"terms": terms})
        wait_until(lambda: get(url, "api/pi/runs")["rows"][0]["state"] == "done", 120,
                   "the π runs")
        browser = launch(playwright)
        page = browser.new_page(viewport=VIEWPORT)

        def save(name: str) -> None:
            shots.append(out / f"{name}.png")
            page.screenshot(path=str(shots[-1]), full_page=True)

        long_run = post(url, "api/pi/runs", {"terms": "6e10"})  # caught in flight
        page.goto(url + "pi")
        page.wait_for_function(  # a function, not a string: the console's CSP forbids eval
            "() => Number(document.getElementById('overall').dataset.done || 0) > 5e9")
        save("pi")
        post(url, f"api/pi/runs/{long_run['id']}/cancel", {})

        page.goto(url + "calc")
        page.wait_for_selector("#history tbody tr")
        page.fill("#calc-input", "calc 2 ** 0.5 * (1 + 2) / 7")
        page.press("#calc-input", "Enter")
        page.wait_for_selector("#calc-result .value")
        save("calculator")

        page.goto(url + "ring")
        page.wait_for_selector('#ring-drawing .node[data-id="2"].up')
        system.stop("ring2")  # so that the ring and the overview show a node gone
        page.wait_for_selector('#ring-drawing .node[data-id="2"]:not(.up)')
        page.click("#ring-form button")
        page.wait_for_selector("#route li.step-complete")
        save("ring")

        page.goto(url)
        page.wait_for_selector("#names td.state.gone, #names td.state.down")
        save("overview")

        page.goto(url + "chat")
        page.fill("#chat-nick", "ana")
        page.click("#chat-enter")
        page.wait_for_selector("#chat-log li.notice")
        for count, text in enumerate(["hello from the browser", "pi is 3.14159265..."], 1):
            page.fill("#chat-text", text)
            page.press("#chat-text", "Enter")
            page.wait_for_selector(f"#chat-log li.message >> nth={count - 1}")
        save("chat")

        accounts = Path(workdir) / "login"  # a console that needs a login: one account
        subprocess.run(python("-m", "pyro_objects.web", "adduser", "demo", "--data", str(accounts),
                              "--password-stdin"), input=secrets.token_hex(8) + "\n",
                       text=True, check=True, capture_output=True, cwd=ROOT, timeout=60)
        login = system.start_web("--require-login", name="web-login", data=accounts)
        page.goto(login.url)
        page.wait_for_selector("input[name=username]")
        save("login")
        browser.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    config.configure(identity="client")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in take(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
