"""The chat server's SQLite store: rooms, their numbered messages and message ids, kept across
restarts. Each post is committed before `say` or `post` returns.

WAL with synchronous=NORMAL: a commit is in the operating system's hands when it returns, so
it survives the chat server being killed; a power cut may lose the last commits. Checkpoints
(the writes that wait for the disk) run in a thread of their own, not in a post, which holds
the chat service's lock.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

FILE = "chat.sqlite"
CHECKPOINT_SECONDS = 0.5
WAL_LIMIT = 64 * 1024 * 1024   # bytes the write-ahead log is cut back to after a checkpoint
SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    key TEXT PRIMARY KEY,           -- the room's name, casefolded
    name TEXT NOT NULL,             -- as first given
    epoch TEXT NOT NULL             -- which numbering a `since` counts in
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    poster TEXT NOT NULL,           -- the nick's key: an id belongs to one nick
    nick TEXT NOT NULL,
    text TEXT NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (room, seq),
    UNIQUE (room, message_id)
) WITHOUT ROWID;
"""


class Store:
    """One SQLite database (in memory when `directory` is None). Not thread-safe: the chat
    service calls it under its own lock."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        path = ":memory:" if directory is None else str(directory / FILE)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        self.db.executescript(SCHEMA)
        self._closed = threading.Event()
        self._checkpointer = None
        if directory is not None:
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(target=self._checkpoint, args=(path,),
                                                  name="chat-checkpoints", daemon=True)
            self._checkpointer.start()

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        self.db.close()

    def _checkpoint(self, path: str) -> None:
        """Copy the write-ahead log into the database now and then, beside the writers."""
        db = sqlite3.connect(path, isolation_level=None)
        try:
            while not self._closed.wait(CHECKPOINT_SECONDS):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy now: the next round catches up
                    log.debug("checkpoint failed: %s", exc)
        finally:
            db.close()

    def room(self, key: str, name: str) -> tuple[str, str, int]:
        """(name, epoch, last sequence number) of the room `key`, made if new."""
        row = self.db.execute("SELECT name, epoch FROM rooms WHERE key = ?", (key,)).fetchone()
        if row is None:
            row = name, secrets.token_hex(8)
            self.db.execute("INSERT INTO rooms VALUES (?, ?, ?)", (key, *row))
        last = self.db.execute("SELECT max(seq) FROM messages WHERE room = ?",
                               (key,)).fetchone()[0]
        return row[0], row[1], last or 0

    def recent(self, key: str, count: int) -> list[dict]:
        """The last `count` messages of room `key`, oldest first, as events."""
        rows = self.db.execute(
            "SELECT seq, nick, text, time FROM messages WHERE room = ? ORDER BY seq DESC "
            "LIMIT ?", (key, count)).fetchall()
        name = self.db.execute("SELECT name FROM rooms WHERE key = ?", (key,)).fetchone()[0]
        return [{"kind": "message", "room": name, "seq": seq, "nick": nick, "text": text,
                 "time": time} for seq, nick, text, time in reversed(rows)]

    def posted(self, key: str, message_id: str) -> tuple[str, int] | None:
        """(poster's nick key, seq) of the message `message_id` in room `key`, if any."""
        return self.db.execute("SELECT poster, seq FROM messages WHERE room = ? AND "
                               "message_id = ?", (key, message_id)).fetchone()

    def add(self, key: str, message_id: str, poster: str, event: dict) -> None:
        """Keep message `event` of room `key` (committed when this returns)."""
        self.db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, event["seq"], message_id, poster, event["nick"], event["text"],
                         event["time"]))
