-- Simpul schema 13: files that could not be sent to the hub (unreadable on this box, or
-- refused by the hub) are counted and go to the back of the queue, so that one bad file never
-- holds back the files behind it. The last error is kept for the sync panel.
-- Migrations are only ever added, never edited.

ALTER TABLE blobs ADD COLUMN sync_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN sync_error TEXT;
