-- Simpul schema 12: staff change their own password at the box, and the change travels to the
-- hub with the next sync. `password_set_at` (Unix seconds) says when an account's password was
-- last set, where it was set; at the hub the later of an owner's change and an admin's reset
-- wins. `credential_outbox` holds a box's changes until a hub answer acknowledges them; while
-- one waits, the account's hash from the hub does not overwrite the new one.
-- Migrations are only ever added, never edited.

ALTER TABLE staff ADD COLUMN password_set_at INTEGER;

CREATE TABLE credential_outbox (
    staff_id      TEXT PRIMARY KEY REFERENCES staff (id),
    password_hash TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
);
