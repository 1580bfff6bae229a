-- machinepool schema version 3: identity is exact and times are UTC. Applied automatically by
-- MachinePool.builder().build() after version 2. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- Text columns take the binary NO PAD collation utf8mb4_nopad_bin, so that owners, descriptions,
-- machine names and the rest compare byte for byte: the server's default (utf8mb4_general_ci)
-- ignores case, and utf8mb4_bin still ignores trailing spaces (it is PAD SPACE).
-- locked_since and lease_expires become DATETIME(3) holding UTC (the library writes UTC_TIMESTAMP):
-- TIMESTAMP is read in the session's time zone and ends in 2038. The conversion runs with the
-- statement's time zone at UTC, so each stored instant is kept whatever the session's zone is.
-- MariaDB does not change the collation of a column in a foreign key, so the host keys' foreign key
-- is dropped first and added again last; the indexes are kept. Every statement may run again, should
-- the migration stop half way.

ALTER TABLE ${prefix}host_key DROP FOREIGN KEY IF EXISTS ${prefix}host_key_machine;

SET STATEMENT time_zone = '+00:00' FOR
ALTER TABLE ${prefix}machine
  CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin,
  MODIFY locked_since  DATETIME(3) NULL DEFAULT NULL,
  MODIFY lease_expires DATETIME(3) NULL DEFAULT NULL;

ALTER TABLE ${prefix}host_key CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;

ALTER TABLE ${prefix}host_key ADD CONSTRAINT ${prefix}host_key_machine
  FOREIGN KEY IF NOT EXISTS (machine_name) REFERENCES ${prefix}machine (name) ON DELETE CASCADE;

INSERT INTO ${prefix}schema_version (version, description) VALUES (3, 'exact identity, UTC times');
