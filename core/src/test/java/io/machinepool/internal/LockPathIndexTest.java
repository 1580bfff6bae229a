package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Lock, renew and unlock change no indexed column of the machine table (schema version 5): on
 * PostgreSQL they are heap-only (HOT) updates, which add no index entry and whose old row versions
 * are pruned without VACUUM; on InnoDB and H2 they touch no secondary index. Checked on every
 * database from its own catalogue, and on PostgreSQL by its own statistics.
 */
class LockPathIndexTest {
  /**
   * The only columns of the machine table an index may hold: nothing on the lock path writes them.
   */
  private static final Set<String> WRITTEN_ONLY_BY_THE_INVENTORY = Set.of("name", "machine_type");

  private static final int CYCLES = 20;
  private static final int MACHINES_PER_LOCK = 2;

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  void theMachineTableIndexesNoColumnThatLockRenewOrUnlockWrites(TestDatabase.Kind kind)
      throws SQLException {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    try (TestDatabase db = TestDatabase.open(kind);
        MachinePool pool = pool(db)) {
      Map<String, List<String>> indexes = indexColumns(db, db.prefix() + "machine");

      assertThat(indexes.values())
          .as("the columns of every index of the machine table: %s", indexes)
          .allSatisfy(columns -> assertThat(WRITTEN_ONLY_BY_THE_INVENTORY).containsAll(columns));
      assertThat(indexes)
          .as("free machines of a type are found through an index, in name order")
          .containsEntry(db.prefix() + "machine_by_type", List.of("machine_type", "name"));
    }
  }

  @Test
  void onPostgreSqlLockRenewAndUnlockAreHeapOnlyUpdates() throws Exception {
    TestDatabase.Kind kind = TestDatabase.Kind.POSTGRESQL;
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    try (TestDatabase db = TestDatabase.open(kind);
        MachinePool pool = pool(db)) {
      String table = db.prefix() + "machine";
      assertThat(db.query("SELECT reloptions FROM pg_class WHERE relname = '" + table + "'"))
          .as("pages keep room for new row versions")
          .containsExactly(List.of("{fillfactor=70}"));
      pool.inventory()
          .addAll(
              MachineSpec.physical("smithi001.front", "smithi"),
              MachineSpec.physical("smithi002.front", "smithi"),
              MachineSpec.physical("smithi003.front", "smithi"));
      long[] before = updates(db, table);

      for (int i = 0; i < CYCLES; i++) {
        try (Lease lease =
            pool.lock(
                LockRequest.builder()
                    .owner("alice@build7")
                    .machineType("smithi")
                    .count(MACHINES_PER_LOCK)
                    .build())) {
          lease.renew();
        }
      }

      long written = (long) CYCLES * MACHINES_PER_LOCK * 3; // lock, renew, unlock of each row
      long[] after = waitForUpdates(db, table, before[0] + written);
      long updated = after[0] - before[0];
      long heapOnly = after[1] - before[1];
      assertThat(updated).isGreaterThanOrEqualTo(written);
      assertThat(heapOnly)
          .as(
              "HOT updates among %d updates of the machine table (a page filled by row versions"
                  + " that another session's snapshot still sees may force a few that are not)",
              updated)
          .isGreaterThanOrEqualTo(updated * 9 / 10);
    }
  }

  private static MachinePool pool(TestDatabase db) {
    return MachinePool.builder()
        .dataSource(db.dataSource())
        .tablePrefix(db.prefix())
        .releaseOnShutdown(false)
        .leaseDuration(Duration.ofMinutes(5))
        .build();
  }

  /** {@code n_tup_upd} and {@code n_tup_hot_upd} of a table, as PostgreSQL last recorded them. */
  private static long[] updates(TestDatabase db, String table) {
    List<String> row =
        db.query(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = '"
                    + table
                    + "'")
            .get(0);
    return new long[] {Long.parseLong(row.get(0)), Long.parseLong(row.get(1))};
  }

  /**
   * Waits, at most 15 s, until the statistics show the expected number of updates: each server
   * process records its counts when it has been idle a moment, not at every commit.
   */
  private static long[] waitForUpdates(TestDatabase db, String table, long expected)
      throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    long[] counts = updates(db, table);
    while (counts[0] < expected && System.nanoTime() < end) {
      Thread.sleep(100);
      counts = updates(db, table);
    }
    return counts;
  }

  /** Each index of a table with its columns; a table without any is a failed test. */
  private static Map<String, List<String>> indexColumns(TestDatabase db, String table)
      throws SQLException {
    Map<String, List<String>> indexes = IndexCatalog.indexColumns(db.dataSource(), table);
    assertThat(indexes).as("indexes of %s", table).isNotEmpty();
    return indexes;
  }
}
