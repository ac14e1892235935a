-- The lowest ticket number a day may issue next, in every lane. A restore sets it for the
-- day it happens on: tickets issued between the backup and the restore are not in the
-- restored database, but people in the waiting room hold them, so numbering resumes above
-- anything they can hold.
CREATE TABLE queue_floors (
    day   TEXT PRIMARY KEY,
    floor INTEGER NOT NULL
) STRICT;
