-- machinepool schema version 1 for other databases (standard SQL).
-- Applied automatically by MachinePool.builder().build(), which runs these statements in order.
-- To apply it by hand, replace ${prefix} with the table prefix (default: machinepool_).

CREATE TABLE ${prefix}schema_version (
  version       INTEGER       NOT NULL PRIMARY KEY,
  description   VARCHAR(255)  NOT NULL
);

CREATE TABLE ${prefix}machine (
  name          VARCHAR(255)  NOT NULL PRIMARY KEY,
  machine_type  VARCHAR(64)   NOT NULL,
  vpshost       VARCHAR(255),
  up            BOOLEAN       NOT NULL,
  locked        BOOLEAN       NOT NULL,
  locked_by     VARCHAR(255),
  locked_since  TIMESTAMP,
  description   VARCHAR(4000),
  os_type       VARCHAR(64),
  os_version    VARCHAR(64),
  arch          VARCHAR(64),
  mac_address   VARCHAR(17),
  ssh_port      INTEGER,
  lease_token   VARCHAR(36),
  lease_expires TIMESTAMP,
  generation    BIGINT        DEFAULT 0 NOT NULL
);

CREATE INDEX ${prefix}machine_free ON ${prefix}machine (machine_type, locked, up);

CREATE INDEX ${prefix}machine_lease ON ${prefix}machine (lease_token);

CREATE TABLE ${prefix}host_key (
  machine_name  VARCHAR(255)   NOT NULL,
  key_type      VARCHAR(64)    NOT NULL,
  key_base64    VARCHAR(16384) NOT NULL,
  PRIMARY KEY (machine_name, key_type),
  CONSTRAINT ${prefix}host_key_machine FOREIGN KEY (machine_name)
    REFERENCES ${prefix}machine (name) ON DELETE CASCADE
);

INSERT INTO ${prefix}schema_version (version, description) VALUES (1, 'machines, leases and host keys');
