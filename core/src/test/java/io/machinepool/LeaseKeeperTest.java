package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.testing.TestDatabase;
import org.junit.jupiter.api.Test;

/** The lease keeper's own bookkeeping, which no database call shows. */
class LeaseKeeperTest {
  @Test
  void aClosedLeaseLeavesNoWakeUpQueuedForTheWatchdog() {
    try (TestDatabase db = TestDatabase.open(TestDatabase.Kind.H2);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix(db.prefix())
                .releaseOnShutdown(false)
                .build()) {
      pool.inventory().add(MachineSpec.physical("smithi001.front", "smithi"));
      LockRequest request = LockRequest.builder().owner("alice@h").names("smithi001.front").build();
      for (int i = 0; i < 2_000; i++) {
        pool.lock(request).close();
      }
      try (Lease open = pool.lock(request)) {
        assertThat(open.isOpen()).isTrue();
        // Before, each closed lease left its wake-up queued until its safe deadline (minutes away):
        // a benchmark ran out of heap within seconds.
        assertThat(pool.keeper().pendingWakeUps()).isEqualTo(1);
      }
      assertThat(pool.keeper().pendingWakeUps()).isZero();
    }
  }
}
