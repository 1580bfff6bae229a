package io.machinepool.faults;

import io.machinepool.testing.TestDatabase;

/** The lease fault contract on PostgreSQL. */
class PostgreSQLLeaseFaultTest extends LeaseFaultContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.POSTGRESQL;
  }
}
