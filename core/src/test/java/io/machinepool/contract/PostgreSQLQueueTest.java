package io.machinepool.contract;

import io.machinepool.testing.TestDatabase;

/** The queue of waiting requests on PostgreSQL. */
class PostgreSQLQueueTest extends QueueContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.POSTGRESQL;
  }
}
