-- The files the records point at that this database does not hold, kept up to date as records
-- and files arrive, so that no sync session scans every file reference: the hub tells a box
-- its office's records point at files the hub lacks, and a box fetches the files it lacks.
-- `seq` only grows: with the count of an office's rows (and the log's epoch, new after a
-- restore) it marks the set's state, so a box asks again only when the set changed.
CREATE TABLE blob_lacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    office TEXT NOT NULL,
    UNIQUE (office, sha256)
) STRICT;
CREATE INDEX blob_lacks_by_sha256 ON blob_lacks (sha256);
CREATE INDEX blob_lacks_by_office ON blob_lacks (office, seq);
INSERT INTO blob_lacks (sha256, office)
    SELECT r.sha256, r.office FROM blob_refs r
    WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = r.sha256)
    ORDER BY r.office, r.sha256;
