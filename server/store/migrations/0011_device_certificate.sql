-- Simpul schema 11: the TLS certificate of a device reached over HTTPS (an IPPS printer, an
-- eSCL scanner on https), pinned by its SHA-256 fingerprint at the first check. Devices make
-- their own self-signed certificates, so no CA can vouch for them; a device at the address
-- that presents another certificate is refused before anything is sent to it, until an
-- installer accepts it (which also forgets the pinned identity).
-- Migrations are only ever added, never edited.

ALTER TABLE devices ADD COLUMN certificate TEXT;
