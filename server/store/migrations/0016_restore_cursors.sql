-- Per peer, two more cursors so that a box or hub restored from a backup is found and repaired
-- by the next session (see simpul_sync::session::PeerCursors):
-- sent: (hub) the furthest position of the hub's log it ever answered this box with;
-- echo: entries of our log up to here go to the peer whatever their origin;
-- peer_epoch: the timeline of the peer's log `applied` refers to (0: from before this version).
ALTER TABLE sync_peers ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_peers ADD COLUMN echo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_peers ADD COLUMN peer_epoch INTEGER NOT NULL DEFAULT 0;
-- What a hub answered before this version is not known; the end of its log bounds it, and
-- never makes a box that is up to date look like it was served by a restored hub.
UPDATE sync_peers SET sent = (SELECT COALESCE(MAX(seq), 0) FROM changes);
