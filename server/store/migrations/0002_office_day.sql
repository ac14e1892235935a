-- Simpul schema 2: replicated documents with their local change log, application projections,
-- content-addressed blobs, idempotent submissions, holidays, counters and the local queue.
-- Migrations are only ever added, never edited.

-- One row per Automerge document: its full state and heads.
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('application')),
    state      BLOB NOT NULL,
    heads      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- The local change log a sync reads from, in order. Never rewritten.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    bytes  BLOB NOT NULL,
    origin TEXT NOT NULL,
    at     TEXT NOT NULL
) STRICT;
CREATE INDEX changes_by_document ON changes (doc_id, seq);
CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes are append-only');
END;

-- Projection of application documents for lists and dashboards.
CREATE TABLE applications (
    id         TEXT PRIMARY KEY REFERENCES documents (id),
    number     TEXT NOT NULL UNIQUE,
    office     TEXT NOT NULL,
    service_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    nik        TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    due_at     TEXT,
    ticket     TEXT
) STRICT;
CREATE INDEX applications_by_status ON applications (status, updated_at);
CREATE INDEX applications_by_service ON applications (service_id);
CREATE INDEX applications_by_nik ON applications (nik);
CREATE INDEX applications_by_due ON applications (due_at) WHERE due_at IS NOT NULL;

-- Per-day counters for numbers that embed the date (applications, tickets per prefix).
CREATE TABLE daily_sequences (
    scope TEXT NOT NULL,
    day   TEXT NOT NULL,
    last  INTEGER NOT NULL,
    PRIMARY KEY (scope, day)
) STRICT;

-- Client-generated ids of submitted actions, so a retry after a crash is answered, not redone.
CREATE TABLE submissions (
    client_id TEXT PRIMARY KEY,
    action    TEXT NOT NULL,
    result    TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;

-- Content-addressed files (scans, photos); the bytes live in the data directory.
CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE holidays (
    date TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('national', 'cuti_bersama', 'regional'))
) STRICT;

CREATE TABLE counters (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    services  TEXT NOT NULL,
    open      INTEGER NOT NULL DEFAULT 0 CHECK (open IN (0, 1)),
    staff_id  TEXT,
    opened_at TEXT
) STRICT;

CREATE TABLE queue_tickets (
    id          TEXT PRIMARY KEY,
    day         TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    number      INTEGER NOT NULL,
    lane        TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending_print', 'waiting', 'called', 'serving', 'done', 'no_show', 'void')),
    ord         INTEGER NOT NULL,
    counter     TEXT,
    for_counter TEXT,
    issued_at   TEXT NOT NULL,
    called_at   TEXT,
    started_at  TEXT,
    finished_at TEXT,
    recalls     INTEGER NOT NULL DEFAULT 0,
    client_id   TEXT UNIQUE,
    UNIQUE (day, prefix, number)
) STRICT;
CREATE INDEX tickets_by_day_state ON queue_tickets (day, state);

CREATE TABLE queue_calls (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES queue_tickets (id),
    counter   TEXT NOT NULL,
    lane      TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;

-- Tokens that let a kiosk or a waiting-room display in without a login (stored hashed).
CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('kiosk', 'display')),
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
