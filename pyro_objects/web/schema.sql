-- The console's database (web/db.py owns it). Times are Unix seconds.

CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,             -- werkzeug scrypt: salted and slow
    created       REAL NOT NULL
);

-- Logged-in sessions: the cookie holds the id, this table its hash. A session ends when its
-- row goes (logout, deluser, passwd) or ages out (web/auth.py: lifetime and idle limit).
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,                -- sha256 of the session id, hex
    user    TEXT NOT NULL,
    created REAL NOT NULL,
    seen    REAL NOT NULL                    -- last used (updated at most once a minute)
);

CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user);

-- Login attempts by key ("user:NAME", "addr:IP"), counted before the password is checked.
CREATE TABLE IF NOT EXISTS login_attempts (
    key   TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last  REAL NOT NULL                      -- the latest attempt
);

-- Every calculator operation: who typed what, and the result or the error as the prompt shows it.
CREATE TABLE IF NOT EXISTS history (
    id     INTEGER PRIMARY KEY,
    at     REAL NOT NULL,
    who    TEXT NOT NULL,
    input  TEXT NOT NULL,
    ok     INTEGER NOT NULL,                 -- 1: output is the result; 0: it is the error
    output TEXT NOT NULL,
    hint   TEXT NOT NULL DEFAULT ''
);

-- π runs are jobs: queued, then run one at a time.
CREATE TABLE IF NOT EXISTS pi_runs (
    id          INTEGER PRIMARY KEY,
    submitted   REAL NOT NULL,
    who         TEXT NOT NULL,
    terms       INTEGER NOT NULL,
    workers     INTEGER,                     -- at most this many workers; NULL: every live one
    slice_terms INTEGER,                     -- NULL: adapted to each worker's speed
    state       TEXT NOT NULL CHECK (state IN
                    ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    started     REAL,
    finished    REAL,
    result      TEXT,                        -- PiRun.to_json(), the `pi --json` document
    error       TEXT,                        -- why it failed, was cancelled or interrupted
    hint        TEXT
);

CREATE INDEX IF NOT EXISTS pi_runs_by_state ON pi_runs (state, id);
