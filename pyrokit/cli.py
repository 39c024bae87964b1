"""How entry points report failures: one `error:` line and a `hint:` line, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

from pyrokit.errors import SetupError


def fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    sys.exit(code)


def run(main: Callable[[], None]) -> None:
    """Run an entry point, turning a SetupError into `fail` and Ctrl-C into a quiet exit."""
    try:
        main()
    except SetupError as exc:
        fail(str(exc), exc.hint)
    except KeyboardInterrupt:
        sys.exit(130)
