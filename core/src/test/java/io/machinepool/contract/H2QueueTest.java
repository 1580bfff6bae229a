package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The queue of waiting requests on H2. */
class H2QueueTest extends QueueContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.H2;
  }
}
