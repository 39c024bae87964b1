"""The web console: the whole system in a browser (python -m pyro_objects.web).

    app = create_app({"DATA_DIR": "/tmp/console"})   # Flask app, background services started
    ...
    shutdown(app)                                     # stops them; a running π run is interrupted
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import SecurityError

from pyro_objects.library import Client
from pyro_objects.state import state_dir
from pyro_objects.web import auth, db
from pyro_objects.web.jobs import MAX_QUEUED, MAX_QUEUED_PER_USER, Jobs
from pyro_objects.web.metrics import observe_call
from pyro_objects.web.registry import Registry
from pyro_objects.web.remote import console_client
from pyro_objects.web.shares import MAX_STREAMS, STREAMS_PER_OWNER, Pool

log = logging.getLogger(__name__)

HOST_HEADER = re.compile(r"\[(?P<ip6>[0-9a-fA-F:.]+)\](?::\d+)?|(?P<name>[^:\[\]]*)(?::\d+)?")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def default_data_dir() -> Path:
    """$WEB_DATA_DIR, else <state dir>/web."""
    if os.environ.get("WEB_DATA_DIR"):
        return Path(os.environ["WEB_DATA_DIR"])
    return state_dir("web")


def keep_private(directory: Path, database: Path) -> None:
    """Only this user may read the console's data (password hashes, everyone's history): the
    directory 0700; the database, its WAL files and the secret key 0600. Looser modes found
    are tightened, and a warning says so; a directory holding other files too (--data /tmp)
    is not the console's to change, and the warning says that instead."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Made before SQLite makes it (with the umask's mode): its WAL files copy its mode.
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    files = [directory / "secret_key", *(Path(f"{database}{suffix}") for suffix in
                                         ("", "-wal", "-shm", "-journal"))]
    for path, mode in [(directory, 0o700), *((path, 0o600) for path in files)]:
        try:
            now = path.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if not now & ~mode:
            continue
        if path == directory and set(directory.iterdir()) - set(files):
            log.warning("%s: mode %o lets other users list it; left so, as it holds more "
                        "than the console's files (those are 0600)", path, now)
            continue
        path.chmod(mode)
        log.warning("%s: mode %o let other users read it; now %o", path, now, mode)


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


class ConsoleJSON(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply to parse is a bad body (400), not a crash."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


@dataclass
class Services:
    """What the console runs beside its requests."""

    registry: Registry
    jobs: Jobs
    streams: Pool               # the live progress streams
    client: Client              # the console's calls into the system
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
    app.json = ConsoleJSON(app)
    app.config.from_mapping(
        DATA_DIR=None,
        ALLOWED_HOSTS=None,        # host names the console answers to (None: any)
        LOGIN_REQUIRED=False,
        MAX_STREAMS=MAX_STREAMS,
        STREAMS_PER_OWNER=STREAMS_PER_OWNER,
        PI_MAX_QUEUED=MAX_QUEUED,
        PI_MAX_QUEUED_PER_USER=MAX_QUEUED_PER_USER,
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_NAME="pyro_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=auth.SESSION_LIFETIME),
        SESSION_REFRESH_EACH_REQUEST=False,  # the login's lifetime does not slide
        JSON_SORT_KEYS=False,
    )
    app.config.from_mapping(test_config or {})
    data_dir = Path(app.config["DATA_DIR"] or default_data_dir())
    app.config["DATA_DIR"] = str(data_dir)
    app.config.setdefault("DATABASE", str(data_dir / "web.sqlite"))
    keep_private(data_dir, Path(app.config["DATABASE"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(data_dir)
    app.json.sort_keys = False

    db.init_db(app.config["DATABASE"])
    app.teardown_appcontext(db.close_db)
    client = console_client(observe_call)
    jobs = Jobs(app.config["DATABASE"], client, app.config["PI_MAX_QUEUED"],
                app.config["PI_MAX_QUEUED_PER_USER"])
    streams = Pool("live streams", app.config["MAX_STREAMS"], app.config["STREAMS_PER_OWNER"],
                   "close some console tabs; the π page falls back to polling /api/pi/live")
    app.extensions["console"] = Services(Registry(), jobs, streams, client)
    jobs.start()

    from pyro_objects.web import api, chat, errors, metrics, pages, processes
    errors.init_app(app)
    app.before_request(_check_host)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    chat.init_app(app)
    processes.init_app(app)
    metrics.init_app(app)
    app.before_request(_start_timer)
    app.after_request(_headers)
    return app


def host_name(header: str) -> str | None:
    """The host in a Host header without its port ([::1]:8080 -> ::1); None if malformed."""
    match = HOST_HEADER.fullmatch(header)
    return None if match is None else (match["ip6"] or match["name"]).lower()


def _check_host() -> None:
    """Only ALLOWED_HOSTS, when set. (Flask's TRUSTED_HOSTS cannot match an IPv6 literal.)"""
    allowed = current_app.config["ALLOWED_HOSTS"]
    if allowed is not None and host_name(request.host) not in allowed:
        raise SecurityError(f"host {request.host[:100]!r} is not one this console answers to")


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
