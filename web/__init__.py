"""The web console: the whole system in a browser (python -m pyro_objects.web).

    app = create_app({"DATA_DIR": "/tmp/console"})   # Flask app, background services started
    ...
    shutdown(app)                                     # stops them; a running π run is interrupted
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, current_app, g, request

from pyro_objects.web import db
from pyro_objects.web.errors import ApiError
from pyro_objects.web.jobs import MAX_QUEUED, Jobs
from pyro_objects.web.registry import Registry
from pyro_objects.web.remote import Prompts

MAX_STREAMS = 64            # live progress streams open at once (each holds a server thread)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def default_data_dir() -> Path:
    """$WEB_DATA_DIR, else <state dir>/pyro-objects/web (state dir: $XDG_STATE_HOME)."""
    if os.environ.get("WEB_DATA_DIR"):
        return Path(os.environ["WEB_DATA_DIR"])
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "pyro-objects" / "web"


def secret_key(directory: Path) -> str:
    """The key that signs session cookies: made once, kept (mode 600) so logins survive a
    restart."""
    path = directory / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    return path.read_text().strip()


class StreamSlots:
    """At most `limit` live streams at once."""

    def __init__(self, limit: int) -> None:
        self.limit, self.open = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1

    def response(self, events: Iterable[str], hint: str = "close some console tabs") -> Response:
        """Server-sent `events` holding a slot until the stream closes; 503 when none is free."""
        if not self.take():
            raise ApiError(503, f"{self.limit} live streams are open already", hint)
        response = Response(events, mimetype="text/event-stream",
                            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        response.call_on_close(self.give_back)
        return response


@dataclass
class Services:
    """What the console runs beside its requests."""

    registry: Registry
    jobs: Jobs
    streams: StreamSlots
    prompt: Prompts = field(default_factory=Prompts)
    stopping: threading.Event = field(default_factory=threading.Event)

    def begin_stop(self) -> None:
        """End every live stream now (their threads are then free to stop)."""
        self.stopping.set()
        self.jobs.release_watchers()

    def close(self) -> None:
        self.begin_stop()
        self.jobs.close()
        self.registry.close()


def services() -> Services:
    return current_app.extensions["console"]


def create_app(test_config: dict | None = None) -> Flask:
    """The console: config, database, background services and blueprints, in one place."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATA_DIR=None,
        LOGIN_REQUIRED=False,
        MAX_STREAMS=MAX_STREAMS,
        PI_MAX_QUEUED=MAX_QUEUED,
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_NAME="pyro_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    app.config.from_mapping(test_config or {})
    data_dir = Path(app.config["DATA_DIR"] or default_data_dir())
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    app.config.setdefault("DATABASE", str(data_dir / "web.sqlite"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(data_dir)
    app.json.sort_keys = False

    db.init_db(app.config["DATABASE"])
    app.teardown_appcontext(db.close_db)
    jobs = Jobs(app.config["DATABASE"], app.config["PI_MAX_QUEUED"])
    app.extensions["console"] = Services(Registry(), jobs, StreamSlots(app.config["MAX_STREAMS"]))
    jobs.start()

    from pyro_objects.web import api, auth, chat, errors, pages
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    chat.init_app(app)
    app.before_request(_start_timer)
    app.after_request(_headers)
    return app


def shutdown(app: Flask) -> None:
    """Stop the console's background work (a π run going on is recorded as interrupted)."""
    app.extensions["console"].close()


def _start_timer() -> None:
    g.began = time.perf_counter()


def _headers(response):
    """Timing for benchmarks and devtools; browser protections on every page."""
    if "began" in g:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.began) * 1e3:.1f}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
