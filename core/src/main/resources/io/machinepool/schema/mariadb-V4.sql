-- machinepool schema version 4: the queue of lock requests that wait. Applied automatically by
-- MachinePool.builder().build() after version 3. To apply it by hand, replace ${prefix} with the
-- table prefix (default: machinepool_).
--
-- One row per waiting request: what it asks for, its priority (lower first) and its place in the
-- order of arrival (arrival, from the database's own sequence), and a heartbeat expiry that the
-- waiting pool renews every second; a row whose expiry passed is a waiter whose process died, and
-- is deleted by the next request that reads the queue. machine_types holds the requested types,
-- or for a request by name the types of its machines; names the machines of a request by name;
-- both space-separated (neither a machine name nor a type may contain a space).

CREATE TABLE IF NOT EXISTS ${prefix}waiter (
  arrival       BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  token         VARCHAR(36)   NOT NULL,
  owner         VARCHAR(255)  NOT NULL,
  description   VARCHAR(4000),
  priority      INTEGER       NOT NULL,
  machine_count INTEGER       NOT NULL,
  machine_types MEDIUMTEXT    NOT NULL,
  names         MEDIUMTEXT,
  os_type       VARCHAR(64),
  os_version    VARCHAR(64),
  arch          VARCHAR(64),
  joined        DATETIME(3)   NOT NULL,
  expires       DATETIME(3)   NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE UNIQUE INDEX IF NOT EXISTS ${prefix}waiter_token ON ${prefix}waiter (token);

INSERT INTO ${prefix}schema_version (version, description) VALUES (4, 'queue of waiting requests');
