-- Simpul schema 14: the public half of each box's receipt key, sent when it enrolls, so that
-- the hub can tell a genuine hand-over receipt (its QR code is signed by the box) from a
-- forged one. Boxes enrolled before this have none until they enroll again.
-- Migrations are only ever added, never edited.

ALTER TABLE enrolled_boxes ADD COLUMN receipt_key TEXT;
