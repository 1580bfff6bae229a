package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.testing.TestValues;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DEBUG line a release logs counts what it unlocked, not what the lease held. */
class UnlockLogLineTest {
  static Machine vm(String name) {
    return TestValues.machine(
        name,
        "vps",
        "mira001.front",
        false,
        true,
        "alice@build7",
        Instant.now(),
        null,
        null,
        null,
        null,
        "52:54:00:00:00:11",
        List.of(),
        null,
        3);
  }

  @Test
  void aVmWhoseDestroyFailedIsNotCountedAsUnlockedAndIsSaidToStayLocked() {
    Machine kept = vm("vpm011.front");

    String line = MachinePool.unlockedLine(List.of(kept), List.of(), List.of(kept), "alice@build7");

    assertThat(line)
        .isEqualTo(
            "unlocked 0 machines for alice@build7; vpm011.front stays locked and marked down, its"
                + " VM may still exist");
  }

  @Test
  void onlyTheUnlockedMachinesAreCounted() {
    Machine kept = vm("vpm011.front");
    Machine freed = vm("vpm012.front");

    String line =
        MachinePool.unlockedLine(
            List.of(kept, freed), List.of("vpm012.front"), List.of(kept), "alice@build7");

    assertThat(line)
        .startsWith("unlocked 1 machine (1 VM) for alice@build7: vpm012.front; vpm011.front stays");
  }
}
