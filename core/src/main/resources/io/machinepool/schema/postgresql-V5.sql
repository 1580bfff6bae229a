-- machinepool schema version 5: locks that leave no index garbage behind. Applied automatically
-- by MachinePool.builder().build() after version 4. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- Lock, renew and unlock change no indexed column: the indexes of the machine table hold only its
-- name (the primary key) and, for the lookup of free machines of a type, machine_type and name,
-- which nothing but an inventory change writes. The index on (machine_type, locked, up) went
-- because every lock and unlock changed it, and the one on lease_token because every lock gives a
-- new token: the store finds the rows of a lease by their names, and checks the token.
--
-- So every lock, renew and unlock is a heap-only (HOT) update: PostgreSQL writes the new row
-- version next to the old one in the same page, adds no index entry, and prunes old versions as it
-- goes, without VACUUM. A fill factor of 70 keeps room in each page for them. It applies to pages
-- written from now on; rows of an existing table move to pages with room on their first update
-- (VACUUM FULL of the machine table compacts it at once, when convenient).

CREATE INDEX IF NOT EXISTS ${prefix}machine_by_type ON ${prefix}machine (machine_type, name);

DROP INDEX IF EXISTS ${prefix}machine_free;

DROP INDEX IF EXISTS ${prefix}machine_lease;

ALTER TABLE ${prefix}machine SET (fillfactor = 70);

INSERT INTO ${prefix}schema_version (version, description) VALUES (5, 'no indexed column on the lock path');
