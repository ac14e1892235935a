-- Simpul schema 10: a device can be taken out of service.
-- A removed device keeps its row (its print jobs name it) but is no longer listed, offered or
-- printed to; its unfinished jobs fail with the reason `device_removed`, their documents kept.
-- Adding a device again at the same address brings the row back with a fresh identity.
-- Migrations are only ever added, never edited.

ALTER TABLE devices ADD COLUMN retired_at TEXT;
