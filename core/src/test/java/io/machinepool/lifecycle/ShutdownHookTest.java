package io.machinepool.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that ends without closing its pool still releases its leases, through the shutdown hook.
 */
class ShutdownHookTest {

  @Test
  void aJvmThatExitsReleasesItsLeasesButKeepsLocksKeptUntilUnlocked(@TempDir Path dir)
      throws Exception {
    try (TestDatabase db = TestDatabase.sharedH2File(dir.resolve("lab"));
        MachinePool pool =
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix(db.prefix())
                .releaseOnShutdown(false)
                .build()) {
      pool.inventory()
          .addAll(
              MachineSpec.physical("leased.front", "smithi"),
              MachineSpec.physical("kept.front", "smithi"));
      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  ExitingHolder.class.getName(),
                  db.url(),
                  db.prefix(),
                  "lease:leased.front",
                  "keep:kept.front")
              .redirectErrorStream(true)
              .start();
      try {
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(output).contains("LOCKED");
        assertThat(child.exitValue()).as(output).isZero();
      } finally {
        child.destroyForcibly();
      }
      assertThat(pool.machine("leased.front").orElseThrow().locked())
          .as("the shutdown hook released the lease")
          .isFalse();
      assertThat(pool.machine("kept.front").orElseThrow().lockedBy()).isEqualTo("exiting@child");
      assertThat(pool.reapExpired()).isEmpty();
      assertThat(List.of(pool.summary().of("smithi").locked())).containsExactly(1);
    }
  }
}
