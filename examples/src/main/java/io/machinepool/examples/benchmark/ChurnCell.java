package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * One churn cell: a fresh lab on fresh tables, and some threads, each on a machine type of its own,
 * that lock {@value #MANY} machines and close the lease again and again for a fixed time, their
 * cycles counted per window, so that the first and the last window show whether the lock slows down
 * as the table churns. Nothing vacuums, optimizes or analyzes the table during the run (and
 * PostgreSQL's autovacuum is off for it); the table's health is read before and after.
 */
final class ChurnCell {
  /** How many machines each lock takes. */
  static final int MANY = 5;

  private static final String OWNER = "bench@churn";

  /**
   * One line of the churn table.
   *
   * @param database the database's label
   * @param threads how many threads churned
   * @param windows the cycles per second of each window, in order
   * @param cycles the cycles completed inside the windows
   * @param errors cycles that threw
   * @param firstError the first failure, or {@code null}
   * @param before the table's health before the run
   * @param after the table's health after it
   */
  record Row(
      String database,
      int threads,
      List<Double> windows,
      long cycles,
      long errors,
      String firstError,
      TableHealth before,
      TableHealth after) {}

  private final ScaleSettings settings;
  private final BenchDatabase database;
  private final PrintStream out;
  private final String prefix;

  /**
   * Describes a cell.
   *
   * @param settings the run's settings
   * @param database where it runs
   * @param out where progress goes
   * @param prefix the table prefix, fresh for this cell
   */
  ChurnCell(ScaleSettings settings, BenchDatabase database, PrintStream out, String prefix) {
    this.settings = settings;
    this.database = database;
    this.out = out;
    this.prefix = prefix;
  }

  /**
   * Builds the lab, churns it for the settings' time, and drops the tables (also when the run is
   * interrupted).
   *
   * @param threads how many threads churn
   * @return the row
   * @throws Exception when a database fails
   */
  Row run(int threads) throws Exception {
    return churn(threads, settings.churnWindows(), settings.churnWindow(), "churn");
  }

  /**
   * Builds the lab, churns it once without counting, and drops the tables: so that the JVM, the
   * driver and the server have run the statements of a churn cell before the first counted window
   * of the first cell.
   *
   * @param threads how many threads churn
   * @param time how long
   * @throws Exception when a database fails
   */
  void warmUp(int threads, Duration time) throws Exception {
    churn(threads, 1, time, "warm-up (not reported)");
  }

  private Row churn(int threads, int windowCount, Duration window, String what) throws Exception {
    String table = prefix + "machine";
    ScaleLab lab = new ScaleLab(settings.machines(), settings.types(), settings.held(), MANY);
    try (HikariDataSource admin = database.pool("churn-admin", 1, false);
        ShutdownHook hook =
            ShutdownHook.add(
                "bench-table-cleanup", () -> database.dropOnInterrupt(admin, prefix))) {
      try {
        String housekeeping;
        try (HikariDataSource setup = database.pool("churn-setup", ScaleCell.CONNECTIONS, false);
            MachinePool pool =
                MachinePool.builder().dataSource(setup).tablePrefix(prefix).build()) {
          housekeeping = database.housekeepingOff(admin, prefix);
          lab.fill(pool);
        }
        database.analyze(admin, table);
        // The setup's connections are closed: PostgreSQL has their statistics.
        TableHealth before = TableHealth.settled(admin, database.kind(), table);
        out.printf(
            Locale.ROOT,
            "  %s, %d thread%s (%s): fresh tables %s*, %d machines, %d held; %s;"
                + " lock-many(%d)+close for %d s%n",
            what,
            threads,
            threads == 1 ? "" : "s",
            String.join(
                ", ",
                java.util.stream.IntStream.range(0, threads)
                    .mapToObj(t -> typeOf(t, threads))
                    .toList()),
            prefix,
            lab.machines(),
            lab.held(),
            housekeeping,
            MANY,
            window.multipliedBy(windowCount).toSeconds());
        out.println("    before: " + before.describe());
        List<Double> windows = new ArrayList<>();
        Measurement total = null;
        try (HikariDataSource dataSource =
                database.pool("churn-machinepool", ScaleCell.CONNECTIONS, false);
            MachinePool pool =
                MachinePool.builder()
                    .dataSource(dataSource)
                    .tablePrefix(prefix)
                    .releaseOnShutdown(true)
                    .build()) {
          StringBuilder line = new StringBuilder("    cycles/s per window:");
          for (int w = 0; w < windowCount; w++) {
            Measurement counted =
                Measurement.run(threads, cycle(pool, threads), Duration.ZERO, window);
            windows.add(counted.perSecond());
            total = total == null ? counted : total.plus(counted);
            line.append(String.format(Locale.ROOT, " %.0f", counted.perSecond()));
          }
          out.printf(Locale.ROOT, "%s; load average %.1f%n", line, ScaleBenchmark.loadAverage());
        }
        // The pool's connections are closed: PostgreSQL has their statistics now, or soon.
        TableHealth after = TableHealth.settled(admin, database.kind(), table);
        out.println("    after:  " + after.describe());
        Throwable first = total.firstError();
        return new Row(
            database.label(),
            threads,
            windows,
            total.cycles(),
            total.errors(),
            first == null ? null : first.toString(),
            before,
            after);
      } finally {
        database.dropTables(admin, prefix);
      }
    }
  }

  /**
   * Thread {@code t} of {@code n} locks machines of a type of its own and closes the lease: the
   * types are spread evenly over the name order (1 thread: the middle type; 4 of 20 types: the 3rd,
   * 8th, 13th and 18th), since the names of a type follow each other in the primary key.
   */
  private IntFunction<Measurement.Cycle> cycle(MachinePool pool, int threads) {
    return thread -> {
      LockRequest request =
          LockRequest.builder()
              .owner(OWNER)
              .machineType(typeOf(thread, threads))
              .count(MANY)
              .build();
      return () -> pool.lock(request).close();
    };
  }

  private String typeOf(int thread, int threads) {
    return ScaleLab.type((2 * thread + 1) * settings.types() / (2 * threads));
  }
}
