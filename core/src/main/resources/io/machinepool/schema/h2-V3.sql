-- machinepool schema version 3: identity is exact and times are UTC. Applied automatically by
-- MachinePool.builder().build() after version 2. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- H2 compares VARCHAR character for character (no case folding, no trailing-space padding) and
-- keeps the lock times as TIMESTAMP WITH TIME ZONE: nothing changes here.

INSERT INTO ${prefix}schema_version (version, description) VALUES (3, 'exact identity, UTC times');
