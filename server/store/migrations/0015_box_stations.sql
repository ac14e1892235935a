-- Simpul schema 15: the numbering station the hub gave each box of an office, so that a new
-- box takes the lowest station no box still in service holds (rather than counting every
-- enrollment the office ever had). Boxes enrolled before this numbered as station 1.
-- Migrations are only ever added, never edited.

ALTER TABLE enrolled_boxes ADD COLUMN station INTEGER;
