package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.testing.TestDatabase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SmokeTest {
  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  void locksAndUnlocks(TestDatabase.Kind kind) {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    try (TestDatabase db = TestDatabase.open(kind);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      pool.inventory().add(MachineSpec.physical("smithi001.front", "smithi"));
      pool.inventory().add(MachineSpec.physical("smithi002.front", "smithi"));
      try (Lease lease =
          pool.lock(LockRequest.builder().owner("a@b").machineType("smithi").count(2).build())) {
        assertThat(lease.names()).containsExactly("smithi001.front", "smithi002.front");
        assertThat(lease.expiresAt()).isPresent();
        System.out.println(kind + " " + lease.expiresAt() + " " + lease.machines());
        lease.renew();
        assertThat(pool.summary().of("smithi").locked()).isEqualTo(2);
      }
      assertThat(pool.summary().of("smithi").free()).isEqualTo(2);
    }
  }
}
