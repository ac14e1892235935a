-- Simpul schema 7: a device's identity, pinned at its first check (an IPP printer's
-- printer-uuid, a scanner's UUID, a biometric device's key fingerprint). A device at the same
-- address that names another identity gets nothing to print and nothing is taken from it until
-- an installer accepts the new one.
-- Migrations are only ever added, never edited.

ALTER TABLE devices ADD COLUMN identity TEXT;
