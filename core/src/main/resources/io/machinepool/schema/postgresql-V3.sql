-- machinepool schema version 3: identity is exact and times are UTC. Applied automatically by
-- MachinePool.builder().build() after version 2. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- PostgreSQL compares VARCHAR byte for byte (its collations are deterministic; VARCHAR has no
-- trailing-space padding) and keeps the lock times as TIMESTAMPTZ: nothing changes here.

INSERT INTO ${prefix}schema_version (version, description) VALUES (3, 'exact identity, UTC times');
