package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.MachinePool;
import io.machinepool.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Three JVMs, four threads each, racing for ten machines of one database (an H2 file in automatic
 * mixed mode, or the PostgreSQL or MariaDB server). The ledger that catches a double hold is a set
 * of per-machine files locked with {@code FileChannel.tryLock}, which the operating system grants
 * to one process at a time: nothing of it is machinepool's.
 */
class CrossProcessRaceTest {
  private static final int CHILDREN = 3;
  private static final int THREADS_PER_CHILD = 4;
  private static final Duration RUN_FOR = Duration.ofSeconds(8);
  private static final int MIN_LOCKS_PER_CHILD = 10;

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void noMachineIsEverHeldByTwoJvmsRacingForItOnOneDatabase(
      TestDatabase.Kind kind, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    List<String> names = Lab.names(6, 4);
    Path ledger = dir.resolve("ledger");
    Files.createDirectories(ledger);
    List<ChildJvm> children = new ArrayList<>();
    try (TestDatabase db =
            kind == TestDatabase.Kind.H2
                ? TestDatabase.sharedH2File(dir.resolve("lab"))
                : TestDatabase.open(kind, 4);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      Lab.add(pool, names);
      try {
        for (int c = 0; c < CHILDREN; c++) {
          children.add(
              ChildJvm.start(
                  "child" + c,
                  dir,
                  List.of(
                      "race",
                      db.url(),
                      db.prefix(),
                      ledger.toString(),
                      "child" + c,
                      Integer.toString(THREADS_PER_CHILD),
                      Long.toString(RUN_FOR.toMillis()))));
        }
        for (ChildJvm child : children) {
          child.awaitLine("READY", Duration.ofSeconds(60));
        }
        for (ChildJvm child : children) {
          child.send("GO");
        }
        long total = 0;
        for (ChildJvm child : children) {
          int status = child.awaitExit(RUN_FOR.plusSeconds(90));
          assertThat(status)
              .as("exit status of %s, which printed:%n%s", child, child.transcript())
              .isZero();
          Tally tally = Tally.parse(child.awaitLine("TALLY", Duration.ofSeconds(5)));
          System.out.println(kind + " " + child + ": " + tally);
          assertThat(tally.locks())
              .as("successful locks of %s (%s)", child, tally)
              .isGreaterThanOrEqualTo(MIN_LOCKS_PER_CHILD);
          assertThat(tally.explicitUnlocks.sum() + tally.leasesClosed.sum())
              .as("unlocks of %s", child)
              .isPositive();
          total += tally.machinesLocked.sum();
        }
        Lab.assertAllFree(db, names);
        assertThat(Lab.generations(db)).as("sum of fencing generations").isEqualTo(total);
      } finally {
        children.forEach(ChildJvm::close);
      }
    }
  }
}
