-- Biometric capture transactions the box issued: a device signs each capture with the
-- transaction id it was asked for, and the box takes a capture handed over by a browser only
-- for a transaction it issued, for that application and that staff member, not long ago. A
-- capture taken for one applicant cannot be replayed into another's record.
CREATE TABLE capture_transactions (
    id          TEXT PRIMARY KEY,
    application TEXT NOT NULL,
    staff       TEXT NOT NULL,
    issued_at   TEXT NOT NULL
) STRICT;
