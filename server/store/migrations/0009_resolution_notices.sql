-- Simpul schema 9: staff are told when a regency admin settled a record they worked on.
-- When a merge brings a settlement (an entry in a record's resolutions) to a box, each staff
-- member who worked on the application (its author, its steps, and every change this box's
-- audit log names them for) gets a notice, shown on their dashboard until they open the
-- application. A settlement is identified by its field and time. The audit log gets an index
-- on its subject to find those changes.
-- Migrations are only ever added, never edited.

CREATE TABLE resolution_notices (
    doc_id      TEXT NOT NULL,
    resolution  TEXT NOT NULL,
    staff_id    TEXT NOT NULL,
    field       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT,
    PRIMARY KEY (doc_id, resolution, staff_id)
) WITHOUT ROWID;
CREATE INDEX resolution_notices_unseen ON resolution_notices (staff_id, created_at) WHERE seen_at IS NULL;
CREATE INDEX audit_log_subject ON audit_log (subject);
