-- Simpul schema 1: box identity, regions, staff, login throttle, catalog, audit log.
-- Migrations are only ever added, never edited.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE regions (
    code       TEXT PRIMARY KEY,
    level      TEXT NOT NULL CHECK (level IN ('province', 'regency', 'kecamatan', 'village')),
    name       TEXT NOT NULL,
    parent     TEXT REFERENCES regions (code),
    retired_at TEXT,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('petugas', 'verifikator', 'kepala', 'admin_kabupaten', 'installer')),
    office_code   TEXT,
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    session_epoch INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER
) STRICT;

CREATE TABLE catalog_services (
    id          TEXT PRIMARY KEY,
    natural_key TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    standard    TEXT NOT NULL,
    source      TEXT,
    imported_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
) STRICT;

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
