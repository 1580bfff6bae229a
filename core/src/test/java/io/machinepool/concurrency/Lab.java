package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** The small lab the concurrency tests fight over, and checks made directly with SQL. */
final class Lab {
  /** The machine types of the lab. */
  static final List<String> TYPES = List.of("smithi", "mira");

  private Lab() {}

  /**
   * The lab's machines: {@code smithi} ones then {@code mira} ones.
   *
   * @param smithi how many of type smithi
   * @param mira how many of type mira
   * @return the names
   */
  static List<String> names(int smithi, int mira) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= smithi; i++) {
      names.add(String.format("smithi%03d.front.sepia.ceph.com", i));
    }
    for (int i = 1; i <= mira; i++) {
      names.add(String.format("mira%03d.front.sepia.ceph.com", i));
    }
    return names;
  }

  /**
   * Adds physical machines to a pool's inventory, each with the type its name starts with.
   *
   * @param pool the pool
   * @param names the names, as from {@link #names(int, int)}
   */
  static void add(MachinePool pool, List<String> names) {
    pool.inventory()
        .addAll(
            names.stream()
                .map(n -> MachineSpec.physical(n, n.startsWith("smithi") ? "smithi" : "mira"))
                .toList());
  }

  /**
   * The database's clock in SQL, to the millisecond, as the library writes it: on MariaDB the UTC
   * clock, whose DATETIME columns hold UTC (and whose plain {@code CURRENT_TIMESTAMP} has whole
   * seconds).
   *
   * @param db the database
   * @return the SQL expression
   */
  static String now(TestDatabase db) {
    return db.kind() == TestDatabase.Kind.MARIADB ? "UTC_TIMESTAMP(3)" : "CURRENT_TIMESTAMP";
  }

  /**
   * Asserts, reading the rows directly, that the lab has exactly these machines and that every one
   * is free and consistent: not locked, no owner, no lock time, no lease.
   *
   * @param db the database
   * @param names the machines expected
   */
  static void assertAllFree(TestDatabase db, List<String> names) {
    assertThat(db.query("SELECT name FROM " + db.prefix() + "machine ORDER BY name"))
        .extracting(row -> row.get(0))
        .containsExactlyInAnyOrderElementsOf(names);
    assertThat(
            db.query(
                "SELECT name, locked, locked_by, locked_since, lease_token, lease_expires FROM "
                    + db.prefix()
                    + "machine WHERE locked = TRUE OR locked_by IS NOT NULL"
                    + " OR locked_since IS NOT NULL OR lease_token IS NOT NULL"
                    + " OR lease_expires IS NOT NULL"))
        .as(
            "machines left locked or half unlocked (name, locked, locked_by, locked_since,"
                + " lease_token, lease_expires)")
        .isEmpty();
  }

  /**
   * Sums the machines' fencing generations: every lock of a machine adds one.
   *
   * @param db the database
   * @return the sum
   */
  static long generations(TestDatabase db) {
    return Long.parseLong(
        db.query("SELECT COALESCE(SUM(generation), 0) FROM " + db.prefix() + "machine")
            .get(0)
            .get(0));
  }

  /**
   * Polls a condition until it holds, failing after a deadline.
   *
   * @param what the condition, for the failure message
   * @param timeout the deadline
   * @param condition the condition
   */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting until " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what, e);
      }
    }
  }
}
