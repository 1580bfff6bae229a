package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.Summary;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The scale cells of one database: a lab of many machines, some held by another owner, and how long
 * lock-many({@value #MANY}) and its close, a listing of every machine and the summary take there,
 * one call at a time; lock-many and close also on a floor table of the same lab, the two sides
 * measured in alternating blocks so that both see the same load of the machine.
 */
final class ScaleCell {
  /** How many machines lock-many takes. */
  static final int MANY = 50;

  /** How many calls of one side run before the other side's turn. */
  static final int BLOCK = 10;

  /** The size of each side's connection pool. */
  static final int CONNECTIONS = 4;

  private static final String OWNER = "bench@scale";

  /**
   * One line of the scale table.
   *
   * @param database the database's label
   * @param operation what was timed
   * @param library the library's calls
   * @param floor the floor's calls, or {@code null} where there is no floor
   * @param errors calls that threw, warm-up included
   * @param firstError the first failure, or {@code null}
   */
  record Row(
      String database,
      String operation,
      Latencies library,
      Latencies floor,
      long errors,
      String firstError) {}

  private final ScaleSettings settings;
  private final BenchDatabase database;
  private final PrintStream out;
  private final String poolPrefix;
  private final String floorPrefix;
  private final ScaleLab lab;
  private long errors;
  private String firstError;
  private long tokens;

  /**
   * Describes the cells.
   *
   * @param settings the run's settings
   * @param database where they run
   * @param out where progress goes
   * @param poolPrefix the library's table prefix
   * @param floorPrefix the floor's table prefix
   */
  ScaleCell(
      ScaleSettings settings,
      BenchDatabase database,
      PrintStream out,
      String poolPrefix,
      String floorPrefix) {
    this.settings = settings;
    this.database = database;
    this.out = out;
    this.poolPrefix = poolPrefix;
    this.floorPrefix = floorPrefix;
    this.lab = new ScaleLab(settings.machines(), settings.types(), settings.held(), MANY);
  }

  /**
   * Builds both labs, measures, and drops the tables (also when the run is interrupted).
   *
   * @return the rows: lock-many, close, list, summary
   * @throws Exception when a database fails
   */
  List<Row> run() throws Exception {
    try (HikariDataSource floorPool = database.pool("scale-floor", CONNECTIONS, false);
        HikariDataSource libraryPool = database.pool("scale-machinepool", CONNECTIONS, false)) {
      try (ShutdownHook hook =
          ShutdownHook.add(
              "bench-table-cleanup",
              () -> database.dropOnInterrupt(floorPool, poolPrefix, floorPrefix))) {
        long start = System.nanoTime();
        database.createTables(floorPool, floorPrefix);
        try (MachinePool pool =
            MachinePool.builder()
                .dataSource(libraryPool)
                .tablePrefix(poolPrefix)
                .releaseOnShutdown(true)
                .build()) {
          String floorHousekeeping = database.housekeepingOff(floorPool, floorPrefix);
          String poolHousekeeping = database.housekeepingOff(floorPool, poolPrefix);
          String housekeeping =
              floorHousekeeping.equals(poolHousekeeping)
                  ? floorHousekeeping
                  : floorHousekeeping + ", " + poolHousekeeping;
          lab.fill(pool);
          lab.fill(floorPool, floorPrefix + "machine", database.kind());
          database.analyze(floorPool, floorPrefix + "machine");
          database.analyze(floorPool, poolPrefix + "machine");
          out.printf(
              Locale.ROOT,
              "  scale: %d machines in %d types, %d held by %s, on both sides in %.1f s; %s;"
                  + " ANALYZE once after filling%n",
              lab.machines(),
              lab.types(),
              lab.held(),
              ScaleLab.HOLDER,
              (System.nanoTime() - start) / 1e9,
              housekeeping);
          String lastType = ScaleLab.type(lab.types() - 1);
          out.println(
              "  plan of the floor's pick of "
                  + lastType
                  + ": "
                  + database.plan(
                      floorPool,
                      "SELECT name FROM "
                          + floorPrefix
                          + "machine WHERE machine_type = '"
                          + lastType
                          + "' AND up = TRUE AND locked = FALSE"
                          + database
                              .kind()
                              .lockFreeRowsTail()
                              .replace("?", Integer.toString(MANY))));
          FloorLocks floor =
              new FloorLocks(
                  floorPool,
                  database.kind(),
                  floorPrefix + "machine",
                  floorPrefix + "host_key",
                  MANY,
                  false);
          List<Row> rows = new ArrayList<>();
          rows.addAll(lockMany(pool, floor));
          rows.add(listing(pool));
          rows.add(summary(pool));
          return rows;
        }
      } finally {
        database.dropTables(floorPool, poolPrefix);
        database.dropTables(floorPool, floorPrefix);
      }
    }
  }

  /** One side's timings: lock-many and close, and lock-many per machine type. */
  private final class Side {
    final Latencies lock = new Latencies();
    final Latencies close = new Latencies();
    final List<Latencies> lockByType = new ArrayList<>();
    private int next;

    Side() {
      for (int t = 0; t < lab.types(); t++) {
        lockByType.add(new Latencies());
      }
    }

    /** The next machine type, round-robin, and its index. */
    int nextType() {
      return next++ % lab.types();
    }

    void add(int type, long lockNanos, long closeNanos) {
      lock.add(lockNanos);
      close.add(closeNanos);
      lockByType.get(type).add(lockNanos);
    }

    String mediansByType() {
      StringBuilder line = new StringBuilder();
      for (Latencies times : lockByType) {
        line.append(String.format(Locale.ROOT, " %.1f", times.medianMillis()));
      }
      return line.toString();
    }
  }

  /** Lock-many and close, on both sides in alternating blocks: floor, library, library, floor. */
  private List<Row> lockMany(MachinePool pool, FloorLocks floor) {
    Side library = new Side();
    Side bare = new Side();
    long errorsBefore = errors;
    try (FloorLocks.Session session = floor.session()) {
      for (int phase = 0; phase < 2; phase++) {
        boolean warm = phase == 0;
        Side libraryInto = warm ? new Side() : library;
        Side floorInto = warm ? new Side() : bare;
        int calls = warm ? settings.warmup() : settings.repetitions();
        int blocks = (calls + BLOCK - 1) / BLOCK;
        for (int block = 0; block < 2 * blocks; block++) {
          int inBlock = Math.min(BLOCK, calls - (block / 2) * BLOCK);
          boolean floorTurn = block % 4 == 0 || block % 4 == 3;
          for (int i = 0; i < inBlock; i++) {
            if (floorTurn) {
              floorLockMany(session, floorInto);
            } else {
              libraryLockMany(pool, libraryInto);
            }
          }
        }
      }
    } catch (java.sql.SQLException e) {
      failed(e);
    }
    out.println("  lock-many(" + MANY + ") median ms per type, library:" + library.mediansByType());
    out.println("  lock-many(" + MANY + ") median ms per type, floor:  " + bare.mediansByType());
    long failed = errors - errorsBefore;
    return List.of(
        new Row(
            database.label(),
            "lock-many(" + MANY + ")",
            library.lock,
            bare.lock,
            failed,
            firstError),
        new Row(database.label(), "close(" + MANY + ")", library.close, bare.close, 0, null));
  }

  private void libraryLockMany(MachinePool pool, Side into) {
    int type = into.nextType();
    LockRequest request =
        LockRequest.builder().owner(OWNER).machineType(ScaleLab.type(type)).count(MANY).build();
    try {
      long start = System.nanoTime();
      Lease lease = pool.lock(request);
      long locked = System.nanoTime();
      lease.close();
      into.add(type, locked - start, System.nanoTime() - locked);
    } catch (RuntimeException e) {
      failed(e);
    }
  }

  private void floorLockMany(FloorLocks.Session session, Side into) {
    int type = into.nextType();
    String token = "floor-" + tokens++;
    try {
      long start = System.nanoTime();
      List<String> names = session.lockMany(ScaleLab.type(type), MANY, token);
      long locked = System.nanoTime();
      session.unlockMany(names, token);
      into.add(type, locked - start, System.nanoTime() - locked);
    } catch (java.sql.SQLException | RuntimeException e) {
      failed(e);
    }
  }

  /** Every machine, through {@code machines(MachineQuery.all())}. */
  private Row listing(MachinePool pool) {
    Latencies times = new Latencies();
    for (int i = 0; i < settings.listWarmup() + settings.listRepetitions(); i++) {
      long start = System.nanoTime();
      int size = pool.machines(MachineQuery.all()).size();
      long end = System.nanoTime();
      if (size != lab.machines()) {
        throw new IllegalStateException(
            "the listing returned " + size + " machines, not " + lab.machines());
      }
      if (i >= settings.listWarmup()) {
        times.add(end - start);
      }
    }
    return new Row(database.label(), "list(" + lab.machines() + ")", times, null, 0, null);
  }

  /** Counts by type and owner, through {@code summary()}. */
  private Row summary(MachinePool pool) {
    Latencies times = new Latencies();
    for (int i = 0; i < settings.listWarmup() + settings.listRepetitions(); i++) {
      long start = System.nanoTime();
      Summary summary = pool.summary();
      long end = System.nanoTime();
      if (summary.total() != lab.machines()) {
        throw new IllegalStateException(
            "the summary counted " + summary.total() + " machines, not " + lab.machines());
      }
      if (i >= settings.listWarmup()) {
        times.add(end - start);
      }
    }
    return new Row(database.label(), "summary", times, null, 0, null);
  }

  private void failed(Exception e) {
    errors++;
    if (firstError == null) {
      firstError = e.toString();
    }
  }
}
