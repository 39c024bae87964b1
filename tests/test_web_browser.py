"""The web console in a real browser (Chromium driven by Playwright), on a real system."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
from playwright.sync_api import expect

from compute.coordinator import PiRun
from pyro_objects import names
from pyro_objects.processes import python, wait_until
from pyro_objects.system.local import LocalSystem
from pyro_objects.web.browser import CHROMIUM, launch
from tests import netns
from tests.web.support import (  # noqa: F401 - browser and playwright are fixtures
    PAGES,
    add_user,
    browser,
    playwright,
    watched_page,
)

PASSWORD = "correct horse battery"
SCRIPT = "<script>alert(1)</script>"
REFUSED_CALC = "status of 422"  # a calculation the server refused: the page shows the error


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A system of this module's own (its ring loses a node in one test) and its console."""
    with LocalSystem(tmp_path_factory.mktemp("browser")) as system:
        system.start_nameserver()
        system.start_server()
        system.start_ring()
        system.start_workers()
        system.start_web()
        yield system


@pytest.fixture
def tab(browser, stack):  # noqa: F811 - browser is the fixture
    with watched_page(browser, stack.web_url()) as watched:
        yield watched


def visit(tab, stack, path: str) -> None:
    tab.page.goto(stack.web_url() + path)
    tab.page.wait_for_selector(PAGES[path], state="attached")


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_draws_without_console_errors_from_the_console_alone(tab, stack, path):
    visit(tab, stack, path)
    tab.page.reload()  # a second load, with whatever the first one stored
    tab.page.wait_for_selector(PAGES[path], state="attached")
    assert tab.errors == []
    assert tab.foreign == []  # nothing from another origin: no CDN


def calculate(page, line: str) -> str:
    before = page.locator("#history tbody tr").count()
    page.fill("#calc-input", line)
    page.press("#calc-input", "Enter")
    page.wait_for_function("(n) => document.querySelectorAll('#history tbody tr').length > n "
                           "|| document.querySelectorAll('#history tbody tr').length >= 20",
                           arg=before)
    return page.inner_text("#calc-result")


def history(page) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator("#history tbody tr").all()]


def test_a_calculation_round_trip_and_its_history_after_a_console_restart(tab, stack):
    visit(tab, stack, "calc")
    assert calculate(tab.page, "5 + 3 * (2 - 1)") == "8"
    assert calculate(tab.page, "add 2 3") == "5"
    assert calculate(tab.page, "div 1 0") == "error: b must not be zero for div (got a=1, b=0)"
    rows = history(tab.page)[:3]
    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("local", "div 1 0", "error: b must not be zero for div (got a=1, b=0)"),
        ("local", "add 2 3", "5"), ("local", "5 + 3 * (2 - 1)", "8")]

    url = stack.web_url()
    stack.stop("web")
    stack.start_web(port=int(url.rsplit(":", 1)[1].strip("/")))
    tab.page.reload()
    tab.page.wait_for_selector("#history tbody tr")
    assert history(tab.page)[:3] == rows
    assert tab.unexpected_errors(REFUSED_CALC) == []


def test_typed_and_returned_markup_shows_as_text_and_never_runs(tab, stack):
    with stack.ns() as ns:
        ns.register(f"test.{SCRIPT}", ns.lookup(names.GREETING), metadata={f"<b>{SCRIPT}</b>"})
    try:
        visit(tab, stack, "calc")
        assert calculate(tab.page, f"greet {SCRIPT}") == f"Hi welcome {SCRIPT}"
        assert calculate(tab.page, SCRIPT).startswith("error: ")
        assert [row[2] for row in history(tab.page)[:2]] == [SCRIPT, f"greet {SCRIPT}"]
        assert history(tab.page)[1][3] == f"Hi welcome {SCRIPT}"
        assert tab.page.locator("main b, main script").count() == 0
        visit(tab, stack, "")
        row = tab.page.locator("#names tbody tr", has_text=f"test.{SCRIPT}")
        row.wait_for()
        assert row.locator("td").nth(3).inner_text() == f"<b>{SCRIPT}</b>"
        assert tab.page.locator("main b, main script").count() == 0
    finally:
        with stack.ns() as ns:
            ns.remove(f"test.{SCRIPT}")
    assert tab.dialogs == []
    assert tab.unexpected_errors(REFUSED_CALC) == []


# Every change of the overall bar, and what the page showed with it, kept by the page itself.
RECORD_PROGRESS = """() => {
  window.seen = [];
  const bar = document.getElementById('overall');
  new MutationObserver(() => window.seen.push({
    done: Number(bar.dataset.done),
    text: document.getElementById('overall-text').textContent,
    workers: document.querySelectorAll('#worker-bars tbody tr').length,
  })).observe(bar, {attributes: true, attributeFilter: ['data-done']});
}"""


def test_a_pi_run_moves_live_in_two_browsers_and_ends_within_1_over_n(browser, stack,  # noqa: F811
                                                                      tmp_path):
    terms = 6_000_000_000
    with watched_page(browser, stack.web_url()) as first, \
            watched_page(browser, stack.web_url()) as second:
        for tab in (first, second):
            visit(tab, stack, "pi")
            tab.page.evaluate(RECORD_PROGRESS)
        first.page.fill("#pi-terms", "6e9")
        first.page.click("#pi-form button")
        message = first.page.locator("#pi-message")
        expect(message).to_have_text(re.compile(r"run #\d+ (queued|running): 6\.000e\+09 terms"))
        run_id = message.inner_text().split("#")[1].split(" ")[0]
        for tab in (first, second):
            tab.page.wait_for_function("(id) => document.getElementById('result-title')"
                                       ".textContent === `Run #${id}`", arg=run_id,
                                       timeout=60_000)
        seen = [tab.page.evaluate("() => window.seen") for tab in (first, second)]
        estimates = [float(tab.page.locator("#result div", has_text="π estimate")
                           .locator("dd").inner_text()) for tab in (first, second)]
        with first.page.expect_download() as download:
            first.page.click("#result-json")
        saved = tmp_path / "run.json"
        download.value.save_as(saved)
        errors = first.errors + second.errors
    for watched in seen:
        moves = [s["done"] for s in watched if 0 < s["done"] < terms]
        assert len(set(moves)) >= 3 and moves == sorted(moves), watched
        assert max(s["workers"] for s in watched) == 2
        assert any("ETA" in s["text"] and "terms/s" in s["text"] for s in watched)
    assert estimates[0] == estimates[1]
    assert abs(estimates[0] - math.pi) <= 1 / terms
    document = json.loads(saved.read_text())
    assert list(document) == [f.name for f in dataclasses.fields(PiRun)]
    assert document["pi"] == estimates[0] and document["terms"] == terms
    assert errors == []


def test_with_every_stream_taken_the_pi_page_follows_by_polling(tab, stack):
    stack.start_web("--max-streams", "0", name="web-no-streams")
    try:
        tab.page.goto(stack.web_url("web-no-streams") + "pi")
        tab.page.fill("#pi-terms", "6e9")
        tab.page.click("#pi-form button")
        tab.page.wait_for_function("() => Number(document.getElementById('overall')"
                                   ".dataset.done || 0) > 0")
        expect(tab.page.locator("#result-title")).to_have_text(re.compile(r"Run #\d+"),
                                                                timeout=60_000)
    finally:
        stack.stop("web-no-streams")
    assert tab.unexpected_errors("status of 503") == []  # the refused stream, and only that


def submit(page, terms: str) -> str:
    """Submit a π run from the page's form; its id, from the note the page shows."""
    page.fill("#pi-terms", terms)
    page.click("#pi-form button")
    message = page.locator("#pi-message")
    expect(message).to_have_text(re.compile(r"run #\d+ "))
    return message.inner_text().split("#")[1].split(" ")[0]


@pytest.mark.timeout(90)
def test_the_run_note_follows_the_run_until_it_is_done_or_failed(tab, stack, tmp_path):
    visit(tab, stack, "pi")
    run_id = submit(tab.page, "1e8")
    note = tab.page.locator("#pi-message")
    expect(note).to_have_text(re.compile(rf"run #{run_id} done: π ≈ 3\.14\d+, \|error\| "
                                         r"\d\.\d{3}e-\d{2} in \d+\.\d s"), timeout=60_000)
    # A console whose system has no compute worker: the run fails at once, and the note says so.
    with LocalSystem(tmp_path) as lone:
        lone.start_nameserver()
        lone.start_web()
        tab.page.goto(lone.web_url() + "pi")
        tab.page.wait_for_selector(PAGES["pi"], state="attached")
        failed_id = submit(tab.page, "1e6")
        expect(note).to_have_text(re.compile(rf"run #{failed_id} failed: error: no compute "
                                             r"worker"), timeout=30_000)
    assert tab.errors == []


@pytest.mark.timeout(90)
def test_a_second_browser_sees_a_run_in_its_runs_table_while_it_goes_on(browser, stack):  # noqa: F811
    with watched_page(browser, stack.web_url()) as first, \
            watched_page(browser, stack.web_url()) as second:
        for tab in (first, second):
            visit(tab, stack, "pi")
        run_id = submit(first.page, "2e11")
        row = second.page.locator(f'#runs tbody tr[data-id="{run_id}"]')
        expect(row.locator("td.run-state")).to_have_text("running", timeout=30_000)
        total = second.page.evaluate("async () => (await api('/api/pi/runs')).total")
        assert second.page.inner_text("#runs-page").endswith(f"({total})")
        assert total >= 1
        first.page.click("#cancel")
        expect(row.locator("td.run-state")).to_contain_text("cancelled")
        assert first.errors == [] and second.errors == []


SCIENTIFIC = [1e-9, 1.5e-10, 3.14159265, 0.0, -2.5e-300, 6e9, 123456.789, 9.9995e-5, 1e100]


@pytest.mark.timeout(60)
def test_the_pages_write_numbers_exactly_as_the_prompt_does(tab, stack):
    visit(tab, stack, "pi")
    assert tab.page.evaluate("(xs) => xs.map((x) => sci(x))", SCIENTIFIC) == [
        f"{x:.3e}" for x in SCIENTIFIC]
    done = tab.page.evaluate("async () => (await api('/api/pi/runs')).rows"
                             ".find((run) => run.state === 'done')")
    if done is None:
        submit(tab.page, "1e6")
        tab.page.wait_for_selector("#runs td.run-state.done")
        done = tab.page.evaluate("async () => (await api('/api/pi/runs')).rows"
                                 ".find((run) => run.state === 'done')")
    tab.page.wait_for_selector(f'#runs tbody tr[data-id="{done["id"]}"]')
    tab.page.click(f'#runs tbody tr[data-id="{done["id"]}"] button')
    result = done["result"]
    facts = dict(zip(tab.page.locator("#result dt").all_inner_texts(),
                     tab.page.locator("#result dd").all_inner_texts(), strict=True))
    assert facts["|error|"] == f"{result['error']:.3e}"
    assert facts["bound 1/N"] == f"{result['bound']:.3e}"
    cells = tab.page.locator(f'#runs tbody tr[data-id="{done["id"]}"] td').all_inner_texts()
    assert f"{result['error']:.3e}" in cells and f"{result['bound']:.3e}" in cells
    assert tab.errors == []


def ring_route(page, start: int) -> tuple[list[str], str]:
    page.select_option("#ring-start", str(start))
    page.fill("#ring-message", "hello")
    page.click("#ring-form button")
    page.wait_for_selector("#route li.step-complete")
    return page.locator("#route li .hop-text").all_inner_texts(), page.inner_text("#ring-time")


def hop_numbers(page) -> tuple[list[str], list[str | None], list[str]]:
    """The numbers on the drawing's arrows; each route line's number (None: not a hop); and
    the numbers the route list shows."""
    drawn = page.locator("#ring-drawing .hop-number").all_text_contents()
    listed = [li.get_attribute("data-hop") for li in page.locator("#route li").all()]
    shown = page.evaluate("() => [...document.querySelectorAll('#route li[data-hop]')]"
                          ".map((li) => getComputedStyle(li, '::before').content)")
    return drawn, listed, shown


def test_a_ring_message_route_is_drawn_and_skipped_nodes_marked(tab, stack):
    visit(tab, stack, "ring")
    tab.page.wait_for_function("() => document.querySelectorAll('#ring-drawing .node.up')"
                               ".length === 3")
    route, timing = ring_route(tab.page, 2)
    assert route == ["passed on from 2", "passed on from 3", "passed on from 1", "complete at 2"]
    assert re.fullmatch(r"round trip \d+\.\d ms from node 2", timing)
    assert tab.page.locator("#ring-drawing path.hop").count() == 3
    assert hop_numbers(tab.page) == (["1", "2", "3"], ["1", "2", "3", None],
                                     ['"1."', '"2."', '"3."'])
    stack.stop("ring2")
    try:
        tab.page.wait_for_selector('#ring-drawing .node[data-id="2"]:not(.up)')
        route, _ = ring_route(tab.page, 1)
        assert route == ["passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]
        assert tab.page.locator("#route li.step-skipped .hop-text").inner_text() == "skipped 2"
        # The drawing and the list number the same hops: from 1, then from 3.
        assert hop_numbers(tab.page) == (["1", "2"], ["1", None, "2", None], ['"1."', '"2."'])
        node2 = tab.page.locator('#ring-drawing .node[data-id="2"]')
        assert "skipped" in node2.get_attribute("class")
        assert node2.get_attribute("data-state") in ("down", "gone")
        assert tab.page.locator("#ring-drawing path.hop.detour").count() == 1
    finally:
        stack.start_ring_node(2, 3)
    assert tab.errors == []


@pytest.mark.timeout(60)
def test_the_rings_millisecond_labels_say_what_they_measure(tab, stack):
    visit(tab, stack, "ring")
    tab.page.wait_for_selector("#ring-drawing .node.up")
    assert "ms is the handshake round trip from the console" in \
        " ".join(tab.page.inner_text("#ring-caption").split())
    label = tab.page.locator("#ring-drawing .node.up .node-label").first
    shown = label.locator("text").text_content()
    assert re.fullmatch(r"\d+\.\d ms", shown)
    assert label.locator("title").text_content() == (
        f"{shown}: handshake round trip from the console to the node (a probe, no call)")
    assert tab.errors == []


def test_the_overview_shows_every_name_live_and_filters(tab, stack):
    with stack.ns() as ns:
        registered = sorted(ns.list())
    visit(tab, stack, "")
    tab.page.wait_for_function("(n) => [...document.querySelectorAll('#names td.state')]"
                               ".filter((td) => td.classList.contains('up')).length >= n",
                               arg=len(registered))
    shown = tab.page.locator("#names tbody tr td:first-child").all_inner_texts()
    assert set(registered) <= set(shown)
    assert tab.page.inner_text("#tls") == "off"
    assert tab.page.inner_text("#ns-location") == f"127.0.0.1:{stack.ns_port}"
    tab.page.fill("#filter", "worker")
    kinds = tab.page.locator("#names tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds == ["worker", "worker"]
    # Live, without reloading: a worker that starts appears, and shows gone when it stops.
    stack.start_worker(3)
    third = tab.page.locator(f'#names tr[data-name="{names.WORKER_PREFIX}3"] td.state')
    third.and_(tab.page.locator(".up")).wait_for()
    stack.stop("worker3")
    third.and_(tab.page.locator(".gone")).wait_for()
    assert re.fullmatch(r"3 of \d+ names", tab.page.inner_text("#count"))  # 2 up, 1 gone
    assert tab.errors == []


EVERY_ROW = ("(state) => { const rows = [...document.querySelectorAll('#names tbody tr')];"
             " return rows.length > 0 && rows.every((tr) => tr.querySelector(`td.state.${state}`)"
             "); }")


@pytest.mark.timeout(90)
def test_when_the_name_server_stops_every_row_turns_unknown_within_5_s_and_says_why(
        browser, tmp_path):  # noqa: F811
    with LocalSystem(tmp_path) as system:
        system.start_nameserver()
        system.start_server()
        system.start_web()
        with watched_page(browser, system.web_url()) as tab:
            page = tab.page
            page.goto(system.web_url())
            page.wait_for_function(EVERY_ROW, arg="up", timeout=15_000)
            system.stop("nameserver")
            page.wait_for_function(EVERY_ROW, arg="unknown", timeout=5_000)
            why = f"no name server reachable at 127.0.0.1:{system.ns_port}"
            assert why in page.inner_text("#overview-error")
            cell = page.locator("#names td.state").first
            assert cell.get_attribute("title") == f"unknown: the name server does not answer " \
                                                  f"({why})"
            assert re.fullmatch(r"unknown · was up · \d+\.\d ms", cell.inner_text())
            grey = page.evaluate("() => getComputedStyle(document.querySelector("
                                 "'#names td.state .dot')).backgroundColor")
            assert grey == "rgb(140, 149, 159)"  # --gone: neither green nor red
            system.start_nameserver()
            page.wait_for_function(EVERY_ROW, arg="up", timeout=15_000)
            assert page.locator("#overview-error").is_hidden()
            assert tab.errors == []


# --- accounts: login when the console is reachable beyond loopback --------------------------

def log_in_and_calculate(tab, url: str) -> None:
    page = tab.page
    page.goto(url + "calc")
    assert page.url == url + "login?next=/calc"
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong password")
    page.click("form button")
    assert page.inner_text("p.error") == "wrong user name or password"
    # The name stays as typed; the password, cleared, has the focus: type it and press Enter.
    assert page.input_value("input[name=username]") == "alice"
    assert page.input_value("input[name=password]") == ""
    assert page.evaluate("() => document.activeElement.name") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "calc")
    assert page.inner_text(".account .user") == "alice"
    page.wait_for_selector("#history-page:not(:empty)")
    page.fill("#calc-input", "add 2 3")
    page.press("#calc-input", "Enter")
    page.wait_for_selector("#history tbody tr")
    assert history(page)[0][1] == "alice"
    page.click(".account button")
    page.wait_for_url(url + "login")


def test_with_login_required_every_page_needs_a_login(tab, stack, tmp_path):
    """On loopback, --require-login turns on what binding beyond loopback does."""
    add_user(tmp_path, "alice", PASSWORD)
    stack.start_web("--require-login", data=tmp_path, name="web-login")
    try:
        log_in_and_calculate(tab, stack.web_url("web-login"))
    finally:
        stack.stop("web-login")
    assert tab.unexpected_errors("status of 401") == []


def test_bound_beyond_loopback_every_page_needs_a_login(playwright, tmp_path):  # noqa: F811
    """The console on a network address (a network-namespace host), the browser beside it."""
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"needs a network-namespace host: {reason} (run the tests as root)")
    data = tmp_path / "web"
    add_user(data, "alice", PASSWORD)
    with netns.Network(tmp_path, ["A"]) as network:
        host = network.hosts["A"]
        console = host.start("web", python("-m", "pyro_objects.web", "--host", host.address,
                                           "--port", "8080", "--data", str(data)), env=None)
        url = f"http://{host.address}:8080/"
        wait_until(lambda: f"web console on {url} (login required)" in console.log(), 20,
                   f"the console on {host.address}")
        wrapper = tmp_path / "chromium-in-A"  # Chromium, run inside host A
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {host.netns} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        chromium = launch(playwright, str(wrapper))
        try:
            with watched_page(chromium, url) as tab:
                log_in_and_calculate(tab, url)
                # Host A runs no system: the calculation fails with 503, and says so.
                assert tab.unexpected_errors("status of 401", "status of 503") == []
        finally:
            chromium.close()
