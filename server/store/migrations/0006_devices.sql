-- Simpul schema 6: the office's devices and its print jobs.
-- Migrations are only ever added, never edited.

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('document_printer', 'ticket_printer', 'scanner', 'biometric')),
    name       TEXT NOT NULL,
    address    TEXT NOT NULL,
    -- The counter that uses it; NULL: the whole office (the kiosk's ticket printer).
    counter    TEXT,
    -- What the device said of itself at its last check (state, reasons, supplies) as JSON.
    state      TEXT,
    checked_at TEXT,
    added_at   TEXT NOT NULL,
    UNIQUE (kind, address)
) STRICT;

-- A print job keeps its document until it is done, so a device error never loses it.
CREATE TABLE print_jobs (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    title       TEXT NOT NULL,
    subject     TEXT,
    format      TEXT NOT NULL,
    document    BLOB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    error       TEXT,
    remote_job  INTEGER,
    reprint_of  TEXT REFERENCES print_jobs (id),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX print_jobs_due ON print_jobs (next_at) WHERE status IN ('queued', 'sent');
CREATE INDEX print_jobs_subject ON print_jobs (subject, created_at);
