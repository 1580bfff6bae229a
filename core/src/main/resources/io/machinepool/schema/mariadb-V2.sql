-- machinepool schema version 2: counts provisioning failures in a row, so that a VM slot that keeps
-- failing is marked down. Applied automatically by MachinePool.builder().build() after version 1.
-- To apply it by hand, replace ${prefix} with the table prefix (default: machinepool_).

ALTER TABLE ${prefix}machine ADD COLUMN IF NOT EXISTS provision_failures INTEGER DEFAULT 0 NOT NULL;

INSERT INTO ${prefix}schema_version (version, description) VALUES (2, 'provisioning failures in a row');
