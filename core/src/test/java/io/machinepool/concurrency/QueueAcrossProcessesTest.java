package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.Waiter;
import io.machinepool.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The queue of waiting requests across JVMs (README, Waiting: a fair queue in the database): a
 * waiter killed with SIGKILL leaves the queue by itself within seconds, and requesters in several
 * JVMs are served fairly, as an independent ledger shows.
 */
class QueueAcrossProcessesTest {
  /** How long a place outlives its last heartbeat: the library's constant, restated. */
  private static final Duration TTL = Duration.ofSeconds(5);

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aWaiterKilledWithSigkillLeavesTheQueueWithinSecondsAndTheNextWaiterIsServed(
      TestDatabase.Kind kind, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    List<String> smithi = Lab.names(4, 0);
    try (TestDatabase db = database(kind, dir);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      Lab.add(pool, smithi);
      List<Lease> held = new ArrayList<>();
      for (String name : smithi) {
        held.add(pool.lock(LockRequest.builder().owner("parent@test").names(name).build()));
      }
      CompletableFuture<Lease> next;
      try (ChildJvm child =
          ChildJvm.start(
              "waiter",
              dir,
              QueueChild.class,
              List.of("wait", db.url(), db.prefix(), "killed@child", "smithi", "4"))) {
        child.awaitLine("WAITING", Duration.ofSeconds(60));
        next =
            CompletableFuture.supplyAsync(
                () ->
                    pool.lock(
                        LockRequest.builder()
                            .owner("next@parent")
                            .machineType("smithi")
                            .count(1)
                            .waitUpTo(Duration.ofSeconds(60))
                            .build()));
        Lab.await("two waiters", Duration.ofSeconds(30), () -> pool.waiters().size() == 2);
        assertThat(pool.waiters())
            .extracting(Waiter::owner)
            .containsExactly("killed@child", "next@parent");

        assertThat(child.kill(Duration.ofSeconds(30)))
            .as("exit status after SIGKILL")
            .isEqualTo(137);
      }
      long killed = System.nanoTime();
      held.get(0).close();
      // The dead child's place still holds the freed machine back at first...
      Thread.sleep(1_500);
      assertThat(next).as("served while the killed waiter's place was alive").isNotDone();
      // ...until its heartbeat expiry passes: then the next waiter is served.
      Lease served = next.get(TTL.toSeconds() + 10, TimeUnit.SECONDS);
      Duration took = Duration.ofNanos(System.nanoTime() - killed);
      assertThat(took).isLessThan(TTL.plusSeconds(3));
      assertThat(served.names()).containsExactly(smithi.get(0));
      assertThat(pool.waiters()).isEmpty();
      assertThat(db.query("SELECT COUNT(*) FROM " + db.prefix() + "waiter"))
          .containsExactly(List.of("0"));
      served.close();
      held.forEach(Lease::close);
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void requestersInSeveralJvmsNeverGoAheadOfAnOlderWaiterTheyDelay(
      TestDatabase.Kind kind, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    int machines = 6;
    List<String> smithi = Lab.names(machines, 0);
    try (TestDatabase db = database(kind, dir);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      Lab.add(pool, smithi);
      QueueLedger.create(db);
      List<ChildJvm> children = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          children.add(
              ChildJvm.start(
                  "fair-" + i,
                  dir,
                  QueueChild.class,
                  List.of("fair", db.url(), db.prefix(), "jvm" + i, "3", "8000", "smithi")));
        }
        for (ChildJvm child : children) {
          assertThat(child.awaitLine("DONE", Duration.ofSeconds(120))).startsWith("DONE");
          assertThat(child.awaitExit(Duration.ofSeconds(30))).as(child.toString()).isZero();
        }
      } finally {
        children.forEach(ChildJvm::close);
      }
      Map<String, QueueLedger.Request> ledger = QueueLedger.read(db);
      long waited = ledger.values().stream().filter(r -> r.joined != 0).count();
      assertThat(ledger.size()).as("requests made").isGreaterThan(50);
      assertThat(waited).as("requests that waited in the queue").isGreaterThan(10);
      assertThat(QueueLedger.violations(ledger, machines)).isEmpty();
      Lab.assertAllFree(db, smithi);
      assertThat(pool.waiters()).isEmpty();
    }
  }

  /** A database two JVMs can share: an H2 file in mixed mode, or the server. */
  private static TestDatabase database(TestDatabase.Kind kind, Path dir) {
    return kind == TestDatabase.Kind.H2
        ? TestDatabase.sharedH2File(dir.resolve("lab"))
        : TestDatabase.open(kind, 4);
  }
}
