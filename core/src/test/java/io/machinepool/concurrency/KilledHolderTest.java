package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults: a holder killed with SIGKILL loses its machines after its lease expires, and only those.
 * The holder is a child JVM with a 3 second lease; the test's own pool holds a lease on other
 * machines of the same database throughout.
 */
class KilledHolderTest {
  private static final Duration CHILD_LEASE = Duration.ofSeconds(3);
  private static final String CHILD = "killed@child";
  private static final String PARENT = "survivor@parent";

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void machinesOfAHolderKilledWithSigkillStayLockedUntilItsLeaseExpiresThenOnlyTheyAreReaped(
      TestDatabase.Kind kind, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    List<String> smithi = Lab.names(4, 0);
    List<String> mira = Lab.names(0, 2);
    try (TestDatabase db = database(kind, dir);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix(db.prefix())
                .leaseDuration(Duration.ofMinutes(1))
                .backgroundReaper(false) // this test reaps by hand, at the moments it checks
                .build()) {
      Lab.add(pool, smithi);
      Lab.add(pool, mira);
      Lease mine =
          pool.lock(
              LockRequest.builder().owner(PARENT).description("survives").names(mira).build());
      try (ChildJvm child = holdingThreeSmithi(db, dir)) {
        killAndReap(db, pool, mine, child, smithi, mira);
      }
      mine.close();
      Lab.assertAllFree(db, concat(smithi, mira));
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void machinesOfAHolderKilledWithSigkillAreFreedByTheDefaultBackgroundReaper(
      TestDatabase.Kind kind, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    List<String> smithi = Lab.names(4, 0);
    try (TestDatabase db = database(kind, dir);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix(db.prefix())
                .leaseDuration(CHILD_LEASE)
                .build()) {
      Lab.add(pool, smithi);
      try (ChildJvm child = holdingThreeSmithi(db, dir)) {
        child.awaitLine("HOLDING", Duration.ofSeconds(60));
        assertThat(child.kill(Duration.ofSeconds(30)))
            .as("exit status after SIGKILL")
            .isEqualTo(137);
      }
      // Nobody calls reapExpired(): the pool's background reaper frees the killed child's machines.
      try (Lease all =
          pool.lock(
              LockRequest.builder()
                  .owner(PARENT)
                  .machineType("smithi")
                  .count(4)
                  .waitUpTo(Duration.ofSeconds(30))
                  .build())) {
        assertThat(all.names()).containsExactlyElementsOf(smithi);
      }
      Lab.assertAllFree(db, smithi);
    }
  }

  /** A database two JVMs can share: an H2 file in mixed mode, or the server. */
  private static TestDatabase database(TestDatabase.Kind kind, Path dir) {
    return kind == TestDatabase.Kind.H2
        ? TestDatabase.sharedH2File(dir.resolve("lab"))
        : TestDatabase.open(kind, 4);
  }

  /** A child JVM that locks 3 smithi machines under a lease of {@link #CHILD_LEASE} and holds. */
  private static ChildJvm holdingThreeSmithi(TestDatabase db, Path dir) {
    return ChildJvm.start(
        "holder",
        dir,
        List.of(
            "hold",
            db.url(),
            db.prefix(),
            CHILD,
            "smithi",
            "3",
            Long.toString(CHILD_LEASE.toMillis())));
  }

  private static void killAndReap(
      TestDatabase db,
      MachinePool pool,
      Lease mine,
      ChildJvm child,
      List<String> smithi,
      List<String> mira)
      throws InterruptedException {
    String[] holding = child.awaitLine("HOLDING", Duration.ofSeconds(60)).split(" ");
    String token = holding[1];
    List<String> taken = Arrays.asList(holding[2].split(","));
    assertThat(token).matches("[0-9a-f-]{36}");
    assertThat(taken).hasSize(3).isSubsetOf(smithi);
    assertThat(lockedRows(db))
        .containsExactlyInAnyOrderElementsOf(
            concat(rows(taken, CHILD, token), rows(mira, PARENT, mine.token())));

    assertThat(child.kill(Duration.ofSeconds(30))).as("exit status after SIGKILL").isEqualTo(137);

    // Right after the kill: nothing released the child's machines, and its lease is still
    // valid (the heartbeat renewed it every second), so reaping now takes nothing.
    assertThat(lockedRows(db))
        .containsExactlyInAnyOrderElementsOf(
            concat(rows(taken, CHILD, token), rows(mira, PARENT, mine.token())));
    assertThat(pool.reapExpired()).as("reaped before the lease expired").isEmpty();
    assertThat(lockedRows(db)).containsAll(rows(taken, CHILD, token));

    Lab.await(
        "the killed child's lease has expired by the database clock",
        Duration.ofSeconds(30),
        () ->
            count(
                    db,
                    "lease_token = '"
                        + token
                        + "' AND locked = TRUE AND lease_expires < "
                        + Lab.now(db))
                == taken.size());
    List<Machine> reaped = pool.reapExpired();

    assertThat(reaped).extracting(Machine::name).containsExactlyInAnyOrderElementsOf(taken);
    assertThat(lockedRows(db))
        .as("after reaping only the survivor's lease is left")
        .containsExactlyInAnyOrderElementsOf(rows(mira, PARENT, mine.token()));
    assertThat(
            count(
                db,
                "name IN ('"
                    + String.join("','", taken)
                    + "') AND locked = FALSE AND locked_by IS NULL AND locked_since IS NULL"
                    + " AND lease_token IS NULL AND lease_expires IS NULL"))
        .as("the killed child's machines, free and consistent")
        .isEqualTo(taken.size());
    assertThat(count(db, "lease_token = '" + mine.token() + "' AND lease_expires > " + Lab.now(db)))
        .as("the survivor's lease is still valid")
        .isEqualTo(mira.size());
    assertThat(mine.isOpen()).isTrue();
    mine.renew();

    // the freed machines can be locked again at once
    try (Lease again =
        pool.lock(LockRequest.builder().owner(PARENT).machineType("smithi").count(4).build())) {
      assertThat(again.names()).containsExactlyElementsOf(smithi);
    }
  }

  private static List<List<String>> lockedRows(TestDatabase db) {
    return db.query(
        "SELECT name, locked_by, lease_token FROM " + db.prefix() + "machine WHERE locked = TRUE");
  }

  private static List<List<String>> rows(List<String> names, String owner, String token) {
    return names.stream().map(n -> List.of(n, owner, token)).toList();
  }

  private static long count(TestDatabase db, String where) {
    return Long.parseLong(
        db.query("SELECT COUNT(*) FROM " + db.prefix() + "machine WHERE " + where).get(0).get(0));
  }

  private static <T> List<T> concat(List<? extends T> a, List<? extends T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
