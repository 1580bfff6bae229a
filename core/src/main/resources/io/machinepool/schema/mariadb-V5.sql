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
-- InnoDB then updates the clustered row in place and touches no secondary index: no delete-marked
-- index records for purge to clean up, and a row lock on the primary key alone.

CREATE INDEX IF NOT EXISTS ${prefix}machine_by_type ON ${prefix}machine (machine_type, name);

DROP INDEX IF EXISTS ${prefix}machine_free ON ${prefix}machine;

DROP INDEX IF EXISTS ${prefix}machine_lease ON ${prefix}machine;

INSERT INTO ${prefix}schema_version (version, description) VALUES (5, 'no indexed column on the lock path');
