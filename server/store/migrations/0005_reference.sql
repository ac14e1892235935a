-- Simpul schema 5: revisions of the reference data a hub hands down to its boxes (staff,
-- catalog, regions, holidays). One counter numbers every change of any of these rows, so a
-- box asks for "everything after revision N". Migrations are only ever added, never edited.

CREATE TABLE reference_rev (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
) STRICT;
INSERT INTO reference_rev (id, rev) VALUES (1, 0);

ALTER TABLE staff ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE catalog_services ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE regions ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE holidays ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- Rows that exist already get distinct revisions, table after table.
UPDATE staff SET rev = rowid + (SELECT rev FROM reference_rev);
UPDATE reference_rev SET rev = (SELECT MAX(rev, (SELECT COALESCE(MAX(rev), 0) FROM staff)) FROM reference_rev);
UPDATE catalog_services SET rev = rowid + (SELECT rev FROM reference_rev);
UPDATE reference_rev SET rev = (SELECT MAX(rev, (SELECT COALESCE(MAX(rev), 0) FROM catalog_services)) FROM reference_rev);
UPDATE regions SET rev = rowid + (SELECT rev FROM reference_rev);
UPDATE reference_rev SET rev = (SELECT MAX(rev, (SELECT COALESCE(MAX(rev), 0) FROM regions)) FROM reference_rev);
UPDATE holidays SET rev = rowid + (SELECT rev FROM reference_rev);
UPDATE reference_rev SET rev = (SELECT MAX(rev, (SELECT COALESCE(MAX(rev), 0) FROM holidays)) FROM reference_rev);

CREATE INDEX staff_rev ON staff (rev);
CREATE INDEX catalog_services_rev ON catalog_services (rev);
CREATE INDEX regions_rev ON regions (rev);
CREATE INDEX holidays_rev ON holidays (rev);

-- Every insert, and every update that changes what a box would see, takes the next revision.
CREATE TRIGGER staff_rev_insert AFTER INSERT ON staff
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE staff SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER staff_rev_update AFTER UPDATE OF username, display_name, role, office_code, password_hash, active, session_epoch ON staff
WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name OR OLD.role IS NOT NEW.role
  OR OLD.office_code IS NOT NEW.office_code OR OLD.password_hash IS NOT NEW.password_hash
  OR OLD.active IS NOT NEW.active OR OLD.session_epoch IS NOT NEW.session_epoch
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE staff SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE id = NEW.id;
END;

CREATE TRIGGER catalog_rev_insert AFTER INSERT ON catalog_services
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE catalog_services SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE id = NEW.id;
END;
CREATE TRIGGER catalog_rev_update AFTER UPDATE OF standard, source ON catalog_services
WHEN OLD.standard IS NOT NEW.standard OR OLD.source IS NOT NEW.source
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE catalog_services SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE id = NEW.id;
END;

CREATE TRIGGER regions_rev_insert AFTER INSERT ON regions
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE regions SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE code = NEW.code;
END;
CREATE TRIGGER regions_rev_update AFTER UPDATE OF name, retired_at ON regions
WHEN OLD.name IS NOT NEW.name OR (OLD.retired_at IS NULL) IS NOT (NEW.retired_at IS NULL)
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE regions SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE code = NEW.code;
END;

CREATE TRIGGER holidays_rev_insert AFTER INSERT ON holidays
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE holidays SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE date = NEW.date;
END;
CREATE TRIGGER holidays_rev_update AFTER UPDATE OF name, kind ON holidays
WHEN OLD.name IS NOT NEW.name OR OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE reference_rev SET rev = rev + 1 WHERE id = 1;
    UPDATE holidays SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE date = NEW.date;
END;
