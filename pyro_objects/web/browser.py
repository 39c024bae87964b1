"""Chromium for the screenshots and the browser tests: Debian's, driven by Playwright.

Playwright's own browser download is not reachable from every machine, so the system's
Chromium ($CHROMIUM, default /usr/bin/chromium; `apt-get install chromium`) is launched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ENABLE_HINT = ("pip install playwright (make install does) and apt-get install chromium, "
               "or set CHROMIUM to a Chromium binary")


def unavailable_reason() -> str | None:
    """Why no browser can be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401 - only whether it is installed
    except ImportError:
        return f"Playwright is not installed: {ENABLE_HINT}"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: {ENABLE_HINT}"
    return None


def launch(playwright, executable: str = CHROMIUM):
    """Chromium, headless, with nothing that reaches the network on its own."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
