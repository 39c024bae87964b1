"""The console's SQLite database: every query the console makes, and nobody else opens it.

One connection per request (`get_db`, closed at teardown) or per background task (`connect`);
WAL mode, so pages read while the π runner writes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g

SCHEMA = Path(__file__).with_name("schema.sql")
BUSY_TIMEOUT = 10.0       # seconds a write waits for another writer
FINISHED = ("done", "failed", "cancelled", "interrupted")
MAX_ID = 2**63 - 1        # SQLite's largest integer: no row id is beyond it


def connect(path: str | Path) -> sqlite3.Connection:
    """A new connection to the database at `path`, rows addressable by column name."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no commit
    return conn


@contextmanager
def connection(path: str | Path) -> Iterator[sqlite3.Connection]:
    """connect(path), closed after the block (for threads outside a request)."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once: nobody writes between what it reads and what it
    writes (committed at the end of the block, rolled back on an exception)."""
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        yield conn


def get_db() -> sqlite3.Connection:
    """This request's connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_db(path: str | Path) -> int:
    """Create the tables if missing; mark runs left running by a stopped console interrupted.
    Returns how many were."""
    with connection(path) as conn:
        conn.executescript(SCHEMA.read_text())
        return interrupt_running(conn, "the console stopped during this run")


# --- users ----------------------------------------------------------------------------------

def add_user(conn: sqlite3.Connection, name: str, password_hash: str) -> bool:
    """False if `name` exists already."""
    try:
        with conn:
            conn.execute("INSERT INTO users (name, password_hash, created) VALUES (?, ?, ?)",
                         (name, password_hash, time.time()))
    except sqlite3.IntegrityError:
        return False
    return True


def delete_user(conn: sqlite3.Connection, name: str) -> bool:
    """Remove `name` and end its sessions; False if there is no such user."""
    with conn:
        conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
        return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0


def set_password(conn: sqlite3.Connection, name: str, password_hash: str) -> bool:
    """Change `name`'s password and end its sessions; False if there is no such user."""
    with conn:
        conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
        return conn.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                            (password_hash, name)).rowcount > 0


def password_hash(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    return row["password_hash"] if row else None


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


# --- sessions -------------------------------------------------------------------------------

def add_session(conn: sqlite3.Connection, id_hash: str, user: str, now: float) -> None:
    with conn:
        conn.execute("INSERT INTO sessions (id_hash, user, created, seen) VALUES (?, ?, ?, ?)",
                     (id_hash, user, now, now))


def session_user(conn: sqlite3.Connection, id_hash: str, now: float, lifetime: float,
                 idle: float, touch_after: float) -> str | None:
    """The user of a session still within `lifetime` of its start and `idle` of its last use
    (noted now, if older than `touch_after`), or None."""
    row = conn.execute("SELECT user, seen FROM sessions WHERE id_hash = ? AND created > ? "
                       "AND seen > ?", (id_hash, now - lifetime, now - idle)).fetchone()
    if row is None:
        return None
    if now - row["seen"] > touch_after:
        with conn:
            conn.execute("UPDATE sessions SET seen = ? WHERE id_hash = ?", (now, id_hash))
    return row["user"]


def end_session(conn: sqlite3.Connection, id_hash: str) -> None:
    with conn:
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


def end_old_sessions(conn: sqlite3.Connection, now: float, lifetime: float,
                     idle: float) -> None:
    with conn:
        conn.execute("DELETE FROM sessions WHERE created <= ? OR seen <= ?",
                     (now - lifetime, now - idle))


# --- login attempts -------------------------------------------------------------------------

def count_attempt(conn: sqlite3.Connection, keys: list[str], now: float, forget_after: float,
                  left: Callable[[str, int, float], float]) -> float:
    """In one transaction: the longest `left(key, count, last)` of `keys`' recorded attempts;
    if 0, one more attempt is counted for each key. Attempts older than `forget_after` s
    are forgotten first."""
    with immediate(conn):
        conn.execute("DELETE FROM login_attempts WHERE last < ?", (now - forget_after,))
        wait = max((left(key, row["count"], row["last"]) for key in keys
                    if (row := conn.execute("SELECT count, last FROM login_attempts "
                                            "WHERE key = ?", (key,)).fetchone())),
                   default=0.0)
        if not wait:
            conn.executemany(
                "INSERT INTO login_attempts (key, count, last) VALUES (?, 1, ?) ON CONFLICT "
                "(key) DO UPDATE SET count = count + 1, last = excluded.last",
                [(key, now) for key in keys])
    return wait


def attempt_succeeded(conn: sqlite3.Connection, forget: list[str],
                      take_back: list[str]) -> None:
    """Forget the attempts of keys `forget`; take one back from each of `take_back`."""
    with conn:
        conn.executemany("DELETE FROM login_attempts WHERE key = ?", [(k,) for k in forget])
        conn.executemany("UPDATE login_attempts SET count = max(0, count - 1) WHERE key = ?",
                         [(k,) for k in take_back])


# --- calculator history ---------------------------------------------------------------------

def add_history(conn: sqlite3.Connection, who: str, text: str, ok: bool, output: str,
                hint: str = "") -> sqlite3.Row:
    with conn:
        return conn.execute(
            "INSERT INTO history (at, who, input, ok, output, hint) VALUES (?, ?, ?, ?, ?, ?) "
            "RETURNING *", (time.time(), who, text, int(ok), output, hint)).fetchone()


@dataclass(frozen=True)
class Page:
    rows: list[sqlite3.Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


PAGED_TABLES = ("history", "pi_runs")


def _page(conn: sqlite3.Connection, table: str, page: int, per_page: int) -> Page:
    if table not in PAGED_TABLES:  # a table name cannot be a query parameter
        raise ValueError(f"table must be one of {', '.join(PAGED_TABLES)} (got {table!r})")
    total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT ? OFFSET ?",
                        (per_page, (page - 1) * per_page)).fetchall()
    return Page(rows, page, per_page, total)


def history_page(conn: sqlite3.Connection, page: int, per_page: int) -> Page:
    """Operations newest first."""
    return _page(conn, "history", page, per_page)


# --- π runs ---------------------------------------------------------------------------------

def add_run(conn: sqlite3.Connection, who: str, terms: int, workers: int | None,
            slice_terms: int | None) -> sqlite3.Row:
    with conn:
        return _insert_run(conn, who, terms, workers, slice_terms)


def queue_run(conn: sqlite3.Connection, who: str, terms: int, workers: int | None,
              slice_terms: int | None, max_queued: int, max_per_user: int) -> sqlite3.Row:
    """add_run unless `max_queued` runs, or `max_per_user` of `who`'s, wait already
    (OverflowError); counted and added in one transaction."""
    with immediate(conn):
        queued, mine = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE who = ?) FROM pi_runs "
            "WHERE state = 'queued'", (who,)).fetchone()
        if queued >= max_queued:
            raise OverflowError(f"{max_queued} runs are queued already")
        if mine >= max_per_user:
            raise OverflowError(f"{who} has {max_per_user} runs queued already (at most "
                                f"{max_per_user} a user)")
        return _insert_run(conn, who, terms, workers, slice_terms)


def _insert_run(conn: sqlite3.Connection, who: str, terms: int, workers: int | None,
                slice_terms: int | None) -> sqlite3.Row:
    return conn.execute(
            "INSERT INTO pi_runs (submitted, who, terms, workers, slice_terms, state) "
            "VALUES (?, ?, ?, ?, ?, 'queued') RETURNING *",
            (time.time(), who, terms, workers, slice_terms)).fetchone()


def get_run(conn: sqlite3.Connection, run_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM pi_runs WHERE id = ?", (run_id,)).fetchone()


def runs_page(conn: sqlite3.Connection, page: int, per_page: int) -> Page:
    """Runs newest first."""
    return _page(conn, "pi_runs", page, per_page)


def queued_runs(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Runs waiting, oldest (next) first."""
    return conn.execute("SELECT * FROM pi_runs WHERE state = 'queued' ORDER BY id").fetchall()


def claim_next_run(conn: sqlite3.Connection) -> sqlite3.Row | None:
    """The oldest queued run, now marked running; None when nothing is queued."""
    with conn:
        return conn.execute(
            "UPDATE pi_runs SET state = 'running', started = ? WHERE id = "
            "(SELECT id FROM pi_runs WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING *",
            (time.time(),)).fetchone()


def finish_run(conn: sqlite3.Connection, run_id: int, state: str, result: str | None = None,
               error: str | None = None, hint: str | None = None) -> None:
    if state not in FINISHED:
        raise ValueError(f"state must be one of {', '.join(FINISHED)} (got {state!r})")
    with conn:
        conn.execute("UPDATE pi_runs SET state = ?, finished = ?, result = ?, error = ?, hint = ? "
                     "WHERE id = ?", (state, time.time(), result, error, hint, run_id))


def cancel_queued(conn: sqlite3.Connection, run_id: int, reason: str) -> bool:
    """Cancel run `run_id` if it is still queued; False if it is not."""
    with conn:
        return conn.execute(
            "UPDATE pi_runs SET state = 'cancelled', finished = ?, error = ? "
            "WHERE id = ? AND state = 'queued'", (time.time(), reason, run_id)).rowcount > 0


def interrupt_running(conn: sqlite3.Connection, reason: str) -> int:
    with conn:
        return conn.execute(
            "UPDATE pi_runs SET state = 'interrupted', finished = ?, error = ? "
            "WHERE state = 'running'", (time.time(), reason)).rowcount


def error_points(conn: sqlite3.Connection) -> list[tuple[int, float]]:
    """(terms, |error|) of every finished run, for the error plot."""
    return [(row[0], row[1]) for row in conn.execute(
        "SELECT terms, json_extract(result, '$.error') FROM pi_runs "
        "WHERE state = 'done' ORDER BY terms")]
