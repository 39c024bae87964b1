"""Accounts, login and CSRF: who may use the console, and proof that a request came from it.

On loopback no login is needed (unless REQUIRE_LOGIN); bound beyond, every page and API call
needs a session from /login. Every state-changing request carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
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
SESSION_LIFETIME = 12 * 3600   # seconds a login lasts, however busy
SESSION_IDLE = 2 * 3600        # seconds unused after which it ends sooner
TOUCH_AFTER = 60.0             # a session's last use is written at most this often
# Endpoints served without a login: the login itself, what its page needs, the health check;
# /metrics decides for itself (open to this machine's scraper).
OPEN_ENDPOINTS = frozenset({"auth.login", "auth.api_login", "auth.api_session", "static",
                            "pages.favicon", "api.health", "metrics"})
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
    """Login attempts, counted in the database before the password is checked (so concurrent
    guesses cannot race past the count, and a restart forgets nothing). After FREE attempts
    for a key, each further one must wait, twice as long after every one (up to MAX_WAIT).
    Keys are an account ("user:NAME", 5 free) and an address ("addr:IP", a budget large enough
    that one attacker cannot lock every account out, even behind one reverse proxy). A success
    forgets the account's attempts and takes back its own from the address."""

    FREE = {"user": 5, "addr": 100}
    FIRST_WAIT = 2.0
    MAX_WAIT = 900.0
    FORGET_AFTER = 3600.0

    def attempt(self, conn: sqlite3.Connection, keys: Iterable[str],
                now: float | None = None) -> float:
        """Count an attempt for every key, in one transaction; or, if one of them must wait
        first, count nothing and return the seconds to wait (0: counted, go ahead)."""
        now = time.time() if now is None else now
        return db.count_attempt(conn, list(keys), now, self.FORGET_AFTER,
                                lambda key, count, last: self._left(key, count, last, now))

    def _left(self, key: str, count: int, last: float, now: float) -> float:
        free = self.FREE[key.split(":", 1)[0]]
        if count < free:
            return 0.0
        pause = min(self.MAX_WAIT, self.FIRST_WAIT * 2 ** min(count - free, 32))
        return max(0.0, last + pause - now)

    def succeeded(self, conn: sqlite3.Connection, keys: Iterable[str]) -> None:
        keys = list(keys)
        db.attempt_succeeded(conn, forget=[key for key in keys if key.startswith("user:")],
                             take_back=[key for key in keys if not key.startswith("user:")])


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def current_user() -> str | None:
    """The user whose session this request carries, if it is still recorded and in time (an
    ended one is dropped from the cookie)."""
    if "user" not in g:
        session_id = session.get("sid")
        g.user = db.session_user(db.get_db(), _id_hash(session_id), time.time(),
                                 SESSION_LIFETIME, SESSION_IDLE, TOUCH_AFTER) \
            if isinstance(session_id, str) else None
        if session_id is not None and g.user is None:
            session.clear()
    return g.user


def _start_session(name: str) -> None:
    """A new session (and CSRF token) for `name`, recorded server-side."""
    now = time.time()
    conn = db.get_db()
    db.end_old_sessions(conn, now, SESSION_LIFETIME, SESSION_IDLE)
    session.clear()
    session.permanent = True
    session["sid"] = secrets.token_urlsafe(32)
    db.add_session(conn, _id_hash(session["sid"]), name, now)
    g.user = name
    csrf_token()


def _end_session() -> None:
    if isinstance(session.get("sid"), str):
        db.end_session(db.get_db(), _id_hash(session["sid"]))
    session.clear()
    g.user = None


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
    wait = throttle.attempt(db.get_db(), keys)
    if wait:
        raise ApiError(429, f"too many wrong passwords; try again in {wait:.0f} s", "",
                       {"Retry-After": str(int(wait) + 1)})
    if len(password) > MAX_PASSWORD:
        password = ""
    known = db.password_hash(db.get_db(), name) if USERNAME.fullmatch(name) else None
    if not check_password_hash(known or _DUMMY_HASH, password) or known is None:
        raise ApiError(401, "wrong user name or password")
    throttle.succeeded(db.get_db(), keys)
    _start_session(name)
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
    _end_session()
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
    _end_session()
    return jsonify(user=None, csrf_token=csrf_token())
