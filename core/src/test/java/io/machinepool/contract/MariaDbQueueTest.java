package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The queue of waiting requests on MariaDB. */
class MariaDbQueueTest extends QueueContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.MARIADB;
  }
}
