-- Simpul schema 8: scans keep their original on the box and send a smaller copy.
-- A scanned requirement is attached as a grey 200 dpi copy (the file the record points to,
-- which syncs like any upload); the full scan stays on this box only (`local_only`), linked
-- from the copy by `original`.
-- Migrations are only ever added, never edited.

ALTER TABLE blobs ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0 CHECK (local_only IN (0, 1));
ALTER TABLE blobs ADD COLUMN original TEXT;
DROP INDEX blobs_to_sync;
CREATE INDEX blobs_to_sync ON blobs (created_at) WHERE synced_at IS NULL AND local_only = 0;
