package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The lock store contract on PostgreSQL. */
class PostgreSQLLockStoreContractTest extends LockStoreContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.POSTGRESQL;
  }
}
