-- Simpul schema 3: replication with the regency hub.
-- Migrations are only ever added, never edited.

-- The owning office of each document (the hub's scope), and the heads after each log entry.
ALTER TABLE documents ADD COLUMN office TEXT;
UPDATE documents SET office = (SELECT office FROM applications WHERE applications.id = documents.id);
ALTER TABLE changes ADD COLUMN office TEXT;
ALTER TABLE changes ADD COLUMN heads TEXT;
-- The backfill of the new column is the only update the log ever sees.
DROP TRIGGER changes_append_only;
UPDATE changes SET office = (SELECT office FROM documents WHERE documents.id = changes.doc_id);
CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes are append-only');
END;
CREATE INDEX changes_by_office ON changes (office, seq);
CREATE INDEX changes_by_origin ON changes (origin, seq);

-- Per peer: how far the peer acknowledged our log, how far we applied the peer's log.
CREATE TABLE sync_peers (
    peer      TEXT PRIMARY KEY,
    acked     INTEGER NOT NULL DEFAULT 0,
    applied   INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT
) STRICT;

-- Hub: one-time enrollment tokens (stored hashed).
CREATE TABLE enrollment_tokens (
    token_hash TEXT PRIMARY KEY,
    office     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    TEXT
) STRICT;

-- Hub: enrolled boxes, by the SHA-256 of their certificate.
CREATE TABLE enrolled_boxes (
    fingerprint TEXT PRIMARY KEY,
    office      TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT,
    last_seen   TEXT
) STRICT;

-- Hub: fields a merge left with concurrent values, for the regency admin's inbox.
CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL REFERENCES documents (id),
    office      TEXT NOT NULL,
    field       TEXT NOT NULL,
    candidates  TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    value       TEXT,
    reason      TEXT
) STRICT;
CREATE UNIQUE INDEX conflicts_open ON conflicts (doc_id, field) WHERE resolved_at IS NULL;
