"""`make demo` shows every feature (the prompt's commands, a chat message posted and received,
every page of the web console) and exits 0 only when all of it worked."""

from __future__ import annotations

import subprocess

import pytest

from pyro_objects import config
from pyro_objects.processes import python
from pyro_objects.system import demo
from pyro_objects.system.local import LocalSystem


@pytest.mark.timeout(240)
def test_the_demo_posts_and_receives_a_chat_message_and_fetches_every_page(tmp_path):
    result = subprocess.run(python("-m", "pyro_objects", "demo"), capture_output=True,
                            text=True, timeout=200, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "chat: listener received #" in result.stdout
    assert f"from ana: {demo.CHAT_TEXT}" in result.stdout
    for path in demo.page_routes(tmp_path):
        assert f"GET {path} 200" in result.stdout
    assert {"GET / 200", "GET /chat 200", "GET /pi 200"} <= set(result.stdout.splitlines())
    assert result.stdout.rstrip().endswith("demo OK: every process stopped")


@pytest.fixture
def in_process(monkeypatch):
    """The demo run in this process (so that one of its parts can be broken); the name
    server location it sets is put back."""
    monkeypatch.setattr(config, "_ns_location", config._ns_location)


def broken_chat(self, *extra, **options):
    """A chat server that exits at once, as one that cannot open its store would."""
    return self.start("chat", python("-c", "raise SystemExit('chat: cannot start')"),
                      ready=lambda: False)


def broken_web(self, *extra, **options):
    """A web console that fails: it refuses to start."""
    return original_start_web(self, "--max-streams", "nonsense", **options)


original_start_web = LocalSystem.start_web


@pytest.mark.timeout(240)
@pytest.mark.parametrize("part, broken, seen", [
    ("start_chat", broken_chat, "chat exited with code 1"),
    ("start_web", broken_web, "web exited with code 2"),
])
def test_the_demo_fails_when_the_chat_or_the_web_console_does(in_process, monkeypatch, capsys,
                                                             part, broken, seen):
    monkeypatch.setattr(LocalSystem, part, broken)
    assert demo.main([]) == 1
    out, err = capsys.readouterr()
    assert seen in err
    assert "demo FAILED" in err and "--- nameserver log ---" in err
    assert "demo OK" not in out


@pytest.mark.timeout(120)
def test_a_page_that_does_not_answer_200_fails_the_demo(in_process, monkeypatch, capsys):
    pages = demo.page_routes
    monkeypatch.setattr(demo, "page_routes", lambda workdir: [*pages(workdir), "/no-such-page"])
    monkeypatch.setattr(demo, "STEPS", [("greet Ana", True)])
    assert demo.main([]) == 1
    out, err = capsys.readouterr()
    assert "GET /no-such-page 404" in out
    assert "GET /no-such-page did not behave" in err
