-- machinepool schema version 3: identity is exact and times are UTC. Applied automatically by
-- MachinePool.builder().build() after version 2. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- Whether another database ignores case or trailing spaces is up to its collation, which this
-- portable version cannot know: nothing changes here.

INSERT INTO ${prefix}schema_version (version, description) VALUES (3, 'exact identity, UTC times');
