-- A box's failed attempts to fetch a file from the hub, so that files the hub cannot give
-- (not there yet, refused there, lost in a restore) go behind the others and never hold
-- them back. A row goes when the file arrives.
CREATE TABLE blob_fetches (
    sha256   TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at  TEXT NOT NULL
) STRICT;
