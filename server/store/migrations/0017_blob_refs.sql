-- Which office's records point at which file. The hub hands a file only to the boxes of an
-- office whose records point at it; a box fetches the files its records point at and it
-- lacks (made on another box of its office, or lost in a restore from a backup). Filled as
-- records are projected; the records already stored are indexed once at the next start.
CREATE TABLE blob_refs (
    sha256 TEXT NOT NULL,
    office TEXT NOT NULL,
    PRIMARY KEY (sha256, office)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_refs_by_office ON blob_refs (office);
