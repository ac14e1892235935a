-- Simpul schema 4: which blobs have reached the hub.
-- Migrations are only ever added, never edited.
ALTER TABLE blobs ADD COLUMN synced_at TEXT;
CREATE INDEX blobs_to_sync ON blobs (created_at) WHERE synced_at IS NULL;
