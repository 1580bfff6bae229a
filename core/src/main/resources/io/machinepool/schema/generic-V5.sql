-- machinepool schema version 5: locks that leave no index garbage behind. Applied automatically
-- by MachinePool.builder().build() after version 4. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- Lock, renew and unlock change no indexed column: the indexes of the machine table hold only its
-- name (the primary key) and, for the lookup of free machines of a type, machine_type and name,
-- which nothing but an inventory change writes. The index on (machine_type, locked, up) went
-- because every lock and unlock changed it, and the one on lease_token because every lock gives a
-- new token: the store finds the rows of a lease by their names, and checks the token.

CREATE INDEX ${prefix}machine_by_type ON ${prefix}machine (machine_type, name);

DROP INDEX ${prefix}machine_free;

DROP INDEX ${prefix}machine_lease;

INSERT INTO ${prefix}schema_version (version, description) VALUES (5, 'no indexed column on the lock path');
