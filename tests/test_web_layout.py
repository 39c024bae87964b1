"""The console's pages on a phone (390 px) and a desktop (1280 px), with real data in them."""

from __future__ import annotations

import itertools

import pytest

from pyro_objects.processes import wait_until
from pyro_objects.system.local import LocalSystem
from pyro_objects.web import create_app, shutdown
from tests.web.support import (  # noqa: F401 - browser and playwright are fixtures
    DESKTOP,
    PHONE,
    Session,
    browser,
    layout_problems,
    page_paths,
    playwright,
    watched_page,
)

HUGE = "10**3999"                       # a 4000-digit result
LONG_INPUT = "+".join(["1"] * 499)      # 997 characters and no space to wrap at
PREVIEW = 200                           # characters of a long value shown at first
NICKS = (f"phone{n}" for n in itertools.count(1))  # one per join: a left nick is kept a while


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A system with a console whose tables hold long values, a finished π run and a chat."""
    with LocalSystem(tmp_path_factory.mktemp("layout")) as system:
        system.start_nameserver()
        system.start_server()
        system.start_ring()
        system.start_workers()
        system.start_chat()
        system.start_web()
        session = Session(system.web_url())
        for line in ["add 2 3", LONG_INPUT, HUGE]:
            session.post("/api/calc", {"input": line})
        status, run, _ = session.post("/api/pi/runs", {"terms": "1e6"})
        assert status == 202, run
        wait_until(lambda: session.get(f"/api/pi/runs/{run['id']}")[1]["state"] == "done", 60,
                   "the π run")
        yield system


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    app = create_app({"TESTING": True, "DATA_DIR": tmp_path_factory.mktemp("url-map")})
    try:
        return page_paths(app)
    finally:
        shutdown(app)


@pytest.mark.timeout(30)
def test_the_page_list_comes_from_the_url_map_and_holds_every_page(paths):
    assert set(paths) >= {"/", "/calc", "/pi", "/ring", "/chat", "/login"}


def fill(page, path: str) -> None:
    """The page drawn with what its API gives, and its forms used once."""
    page.wait_for_load_state("networkidle")
    if path == "/ring":
        page.wait_for_selector("#ring-drawing .node.up")
        page.click("#ring-form button")
        page.wait_for_selector("#route li.step-complete")
    elif path == "/chat":
        page.fill("#chat-nick", next(NICKS))
        page.click("#chat-enter")
        page.wait_for_selector("#chat-log li")
    elif path == "/calc":
        page.wait_for_selector("#history tbody tr")
    elif path == "/pi":
        page.wait_for_selector("#runs tbody tr")
        page.wait_for_selector("#result-box:not([hidden])")
    elif path == "/":
        page.wait_for_selector("#names td.state.up")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_screen_and_nothing_leaves_its_card(browser, stack, paths,  # noqa: F811
                                                                viewport):
    problems = {}
    with watched_page(browser, stack.web_url(), viewport) as tab:
        for path in paths:
            tab.page.goto(stack.web_url() + path.lstrip("/"))
            fill(tab.page, path)
            found = layout_problems(tab.page)
            if found:
                problems[path] = found[:8]
        assert tab.errors == []
    assert problems == {}


@pytest.mark.timeout(90)
def test_a_run_going_on_fits_a_phone(browser, stack):  # noqa: F811
    with watched_page(browser, stack.web_url(), PHONE) as tab:
        tab.page.goto(stack.web_url() + "pi")
        tab.page.fill("#pi-terms", "2e11")
        tab.page.click("#pi-form button")
        tab.page.wait_for_selector("#worker-bars tbody tr")
        problems = layout_problems(tab.page)
        tab.page.click("#cancel")
        tab.page.wait_for_selector("#idle:not([hidden])")
        assert problems == []
        assert tab.errors == []


@pytest.mark.timeout(90)
def test_on_a_phone_the_header_links_stay_in_the_bar(browser, stack):  # noqa: F811
    with watched_page(browser, stack.web_url(), PHONE) as tab:
        tab.page.goto(stack.web_url())
        bar = tab.page.locator("header.top").bounding_box()
        for link in tab.page.locator("header.top a, header.top .account > *").all():
            box = link.bounding_box()
            assert bar["y"] <= box["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]
            assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]


def value_cells(page):
    return page.locator("#history tbody td.mono")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_4000_digit_result_is_cut_short_and_shown_whole_on_demand(browser, stack,  # noqa: F811
                                                                   viewport):
    with watched_page(browser, stack.web_url(), viewport) as tab:
        page = tab.page
        page.goto(stack.web_url() + "calc")
        page.fill("#calc-input", HUGE)
        page.press("#calc-input", "Enter")
        page.wait_for_selector("#calc-result .long")
        page.wait_for_selector("#history tbody tr .long")
        assert layout_problems(page) == []
        row = page.locator("#history tbody tr").first
        result = row.locator("td").nth(3)
        shown = result.inner_text()
        assert len(shown) < PREVIEW + 60 and "(4000 digits)" in shown
        assert shown.startswith("1" + "0" * (PREVIEW - 1))
        result.get_by_role("button", name="show all").click()
        assert result.locator(".long").inner_text() == "1" + "0" * 3999
        assert layout_problems(page) == []   # the whole value wraps inside its cell
        result.get_by_role("button", name="show less").click()
        assert len(result.inner_text()) < PREVIEW + 60
        # The long input of the stored history, 997 characters without a space, is cut too.
        long_input = page.locator("#history tbody td", has_text="1+1+1").first
        assert "(997 characters)" in long_input.inner_text()
        # The result above the history is cut the same way, and shown whole the same way.
        page.locator("#calc-result").get_by_role("button", name="show all").click()
        assert page.inner_text("#calc-result .long") == "1" + "0" * 3999
        assert layout_problems(page) == []
        assert tab.errors == []


def alignments(page) -> list[str]:
    """Each column whose heading is aligned otherwise than its cells, in every table shown."""
    return page.evaluate("""() => {
      const side = (node) => ({ start: "left", end: "right" })[getComputedStyle(node).textAlign]
                             || getComputedStyle(node).textAlign;
      const out = [];
      for (const table of document.querySelectorAll("table")) {
        if (table.offsetParent === null) continue;  // hidden
        const headings = [...table.querySelectorAll("thead th")];
        headings.forEach((th, i) => {
          const cells = [...table.querySelectorAll(`tbody tr > td:nth-child(${i + 1})`)]
            .filter((td) => td.textContent.trim() !== "");
          const sides = new Set(cells.map(side));
          if (sides.size && (sides.size > 1 || !sides.has(side(th)))) {
            out.push(`${table.id} ${th.textContent}: heading ${side(th)}, cells ${[...sides]}`);
          }
        });
      }
      return out;
    }""")


@pytest.mark.timeout(120)
def test_every_tables_headings_align_with_their_columns(browser, stack, paths):  # noqa: F811
    wrong = []
    with watched_page(browser, stack.web_url()) as tab:
        for path in paths:
            tab.page.goto(stack.web_url() + path.lstrip("/"))
            fill(tab.page, path)
            wrong += [f"{path} {line}" for line in alignments(tab.page)]
        # The per-worker table of a run going on, then the run cancelled.
        tab.page.goto(stack.web_url() + "pi")
        tab.page.fill("#pi-terms", "2e11")
        tab.page.click("#pi-form button")
        tab.page.wait_for_selector("#worker-bars tbody tr")
        wrong += [f"/pi (running) {line}" for line in alignments(tab.page)]
        tab.page.click("#cancel")
        tab.page.wait_for_selector("#idle:not([hidden])")
    assert wrong == []
