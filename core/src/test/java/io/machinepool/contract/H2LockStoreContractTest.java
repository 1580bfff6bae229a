package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The lock store contract on H2. */
class H2LockStoreContractTest extends LockStoreContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.H2;
  }
}
