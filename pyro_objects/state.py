"""Where the project keeps what it must not lose: the user's state directory."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir(*parts: str) -> Path:
    """<$XDG_STATE_HOME or ~/.local/state>/pyro-objects[/parts...] (not created here)."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base.joinpath("pyro-objects", *parts)
