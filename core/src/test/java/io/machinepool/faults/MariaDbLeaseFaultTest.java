package io.machinepool.faults;

import io.machinepool.testing.TestDatabase;

/** The lease fault contract on MariaDB. */
class MariaDbLeaseFaultTest extends LeaseFaultContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.MARIADB;
  }
}
