-- Each audit entry carries the SHA-256 of the chain up to and including it, so that an entry
-- changed, removed or inserted afterwards is found by `simpul audit verify`. Entries written
-- before this version have none: they are folded into the chain's first link.
ALTER TABLE audit_log ADD COLUMN hash TEXT;
