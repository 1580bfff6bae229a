package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The lock store contract on MariaDb. */
class MariaDbLockStoreContractTest extends LockStoreContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.MARIADB;
  }
}
