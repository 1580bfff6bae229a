package io.machinepool.faults;

import io.machinepool.testing.TestDatabase;

/** The lease fault contract on H2, through an H2 TCP server in this JVM. */
class H2LeaseFaultTest extends LeaseFaultContract {
  @Override
  TestDatabase.Kind kind() {
    return TestDatabase.Kind.H2;
  }

  @Override
  io.machinepool.testing.FaultProxy.Mode cutOff() {
    return io.machinepool.testing.FaultProxy.Mode.REFUSE;
  }
}
