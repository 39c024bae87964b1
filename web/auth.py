"""Accounts, login and CSRF: who may use the console, and proof that a request came from it.

On loopback no login is needed (unless REQUIRE_LOGIN); bound beyond, every page and API call
needs a session from /login. Every state-changing request carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash

from pyro_objects.web import db
from pyro_objects.web.errors import ApiError

bp = Blueprint("auth", __name__)

USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
ANONYMOUS = "local"          # who did it, when no login is needed
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Endpoints served without a login: the login itself, what its page needs, the health check.
OPEN_ENDPOINTS = frozenset({"auth.login", "auth.api_login", "auth.api_session", "static",
                            "pages.favicon", "api.health"})
# Compared against when the user does not exist, so that both cases take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default: n=2**15, r=8, p=1)."""
    return generate_password_hash(password)


def check_username(name: str) -> str:
    if not USERNAME.fullmatch(name):
        raise ValueError("a user name is 1 to 64 letters, digits or . _ @ - "
                         f"(got {name[:80]!r})")
    return name


def check_new_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters "
                         f"(got {len(password)})")
    return password


class Throttle:
    """Wrong passwords: after FREE failures for a user name or from an address, each further
    attempt must wait, twice as long after every failure (up to MAX_WAIT); a success resets it."""

    FREE = 5
    FIRST_WAIT = 2.0
    MAX_WAIT = 900.0
    FORGET_AFTER = 3600.0

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (count, last failure)
        self._lock = threading.Lock()

    def wait(self, keys: Iterable[str], now: float | None = None) -> float:
        """Seconds before `keys` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max((self._left(key, now) for key in keys), default=0.0)

    def _left(self, key: str, now: float) -> float:
        count, last = self._failures.get(key, (0, now))
        if count < self.FREE:
            return 0.0
        pause = min(self.MAX_WAIT, self.FIRST_WAIT * 2 ** (count - self.FREE))
        return max(0.0, last + pause - now)

    def failed(self, keys: Iterable[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)
            self._failures = {key: value for key, value in self._failures.items()
                              if now - value[1] < self.FORGET_AFTER}

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def current_user() -> str | None:
    return session.get("user")


def who() -> str:
    """The name history rows record: the user logged in, or ANONYMOUS."""
    return current_user() or ANONYMOUS


def csrf_token() -> str:
    """This session's CSRF token (made on first use); pages send it with every change."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not (sent and expected and hmac.compare_digest(sent, expected)):
        raise ApiError(400, "missing or wrong CSRF token",
                       f"reload the page; API clients send {CSRF_HEADER} from GET /api/session")


def require_login():
    if not current_app.config["LOGIN_REQUIRED"] or current_user() is not None:
        return None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        raise ApiError(401, "login required", "log in: POST /api/login")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    app.extensions["login_throttle"] = Throttle()
    app.before_request(require_login)
    app.before_request(check_csrf)
    app.context_processor(lambda: {"csrf_token": csrf_token, "current_user": current_user,
                                   "login_required": app.config["LOGIN_REQUIRED"]})


def _log_in(name: str, password: str) -> str:
    """Check `name`/`password` (throttled); start a fresh session; returns the user name."""
    throttle: Throttle = current_app.extensions["login_throttle"]
    keys = (f"user:{name[:64]}", f"addr:{request.remote_addr}")
    wait = throttle.wait(keys)
    if wait:
        raise ApiError(429, f"too many wrong passwords; try again in {wait:.0f} s", "",
                       {"Retry-After": str(int(wait) + 1)})
    if len(password) > MAX_PASSWORD:
        password = ""
    known = db.password_hash(db.get_db(), name) if USERNAME.fullmatch(name) else None
    if not check_password_hash(known or _DUMMY_HASH, password) or known is None:
        throttle.failed(keys)
        raise ApiError(401, "wrong user name or password")
    throttle.succeeded(keys)
    session.clear()  # a new session, and a new CSRF token, for the logged-in user
    session.permanent = True
    session["user"] = name
    csrf_token()
    return name


def _safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only."""
    if not target:
        return url_for("pages.overview")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.overview")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    try:
        _log_in(request.form.get("username", ""), request.form.get("password", ""))
    except ApiError as exc:
        return render_template("login.html", error=exc.message,
                               next=request.form.get("next", "")), exc.status, exc.headers
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login" if current_app.config["LOGIN_REQUIRED"]
                            else "pages.overview"))


@bp.get("/api/session")
def api_session():
    return jsonify(user=current_user(), login_required=current_app.config["LOGIN_REQUIRED"],
                   csrf_token=csrf_token())


@bp.post("/api/login")
def api_login():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(
            isinstance(body.get(key), str) for key in ("username", "password")):
        raise ApiError(400, "send JSON {\"username\": ..., \"password\": ...}")
    user = _log_in(body["username"], body["password"])
    return jsonify(user=user, csrf_token=csrf_token())


@bp.post("/api/logout")
def api_logout():
    session.clear()
    return jsonify(user=None, csrf_token=csrf_token())
