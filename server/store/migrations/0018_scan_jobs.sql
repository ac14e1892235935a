-- Scans as rows: each press of "scan" at a counter, what the scanner answered, what became of
-- it. A scan under way when the server stopped is failed at the next start ('interrupted').
CREATE TABLE scan_jobs (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    item        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('scanning', 'done', 'failed')),
    problem     TEXT,
    pages       INTEGER,
    blob        TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    finished_at TEXT
) STRICT;
CREATE INDEX scan_jobs_by_subject ON scan_jobs (subject, created_at);
