package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.examples.support.Directories;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import javax.sql.DataSource;

/**
 * Measures lock+unlock throughput of {@link MachinePool} against the floor of a bare JDBC loop, on
 * H2 and on the PostgreSQL and MariaDB servers given by URL, and prints one table with the ratio of
 * the two for every database, operation and thread count.
 *
 * <p>Three operations, each with 1, 4 and 16 threads by default:
 *
 * <ul>
 *   <li><b>lock+unlock</b>: machinepool locks one physical machine by name ({@code
 *       pool.lock(LockRequest...names(name))}) and closes the lease; the floor runs one conditional
 *       {@code UPDATE ... WHERE name = ? AND locked = FALSE} and its reverse, in auto-commit. Each
 *       thread cycles over its own {@value #MACHINES_PER_THREAD} machines, so threads never
 *       collide.
 *   <li><b>lock+read+unlock</b>: machinepool as in lock+unlock; the floor also reads the row it
 *       locked back, joined with its host keys (one SELECT by name), between its two UPDATEs. That
 *       is the least a program must do to know what it locked on a database without {@code UPDATE
 *       ... RETURNING} (MariaDB), and shows what machinepool costs beyond that read.
 *   <li><b>lock-many(5)+unlock</b>: machinepool locks {@value #MANY} machines of a type ({@code
 *       machineType(type).count(5)}) and closes the lease; the floor runs, in one transaction,
 *       {@code SELECT name ... FOR UPDATE SKIP LOCKED LIMIT 5} and one conditional UPDATE of the
 *       names found, then one UPDATE to unlock. Each thread has a machine type of its own.
 * </ul>
 *
 * <p>The floor borrows a pooled connection per statement or transaction and prepares its statement
 * anew, as machinepool does; with {@code --floor=held} each floor thread holds one connection
 * instead, its statements prepared once, as a bare loop with a connection of its own does.
 *
 * <p>Both sides use a HikariCP pool of the same size with the same settings, and tables created
 * from the same DDL: {@value #POOL_PREFIX}<i>run</i>{@code _} for machinepool, {@value
 * #FLOOR_PREFIX}<i>run</i>{@code _} for the floor, where <i>run</i> is random for each run, so that
 * two runs on one server never touch each other's tables. Each database is warmed up first. Every
 * cell is then measured for a fixed time per side, cut into slices that the two sides take in turns
 * (floor, machinepool, machinepool, floor, ...), so that both sides see the same load of the
 * machine; the ratio is that of the totals, and the spread of the ratios of the slice pairs shows
 * how steady the machine was. The tables are dropped at the end, also when the run is interrupted
 * (a shutdown hook; only a killed JVM leaves them behind).
 *
 * <p>Settings: see {@link BenchmarkSettings}. The table goes to standard output; the library's own
 * logging is set to {@code warn} unless {@code --log=info} (one INFO line per lock and unlock is
 * what a harness gets by default, and costs throughput of its own).
 */
public final class LockBenchmark {
  /** Start of the table prefix of the machinepool side, before the run's random part. */
  public static final String POOL_PREFIX = "bench_pool_";

  /** Start of the table prefix of the floor side, before the run's random part. */
  public static final String FLOOR_PREFIX = "bench_floor_";

  /** How many machines lock-many takes. */
  public static final int MANY = 5;

  /** How many machines each thread cycles over when locking by name. */
  public static final int MACHINES_PER_THREAD = 4;

  /** How many machines of its own type each thread has for lock-many. */
  public static final int MANY_MACHINES_PER_THREAD = 8;

  private static final String OWNER = "bench@machinepool";

  /** The operations measured. */
  enum Operation {
    LOCK_ONE("lock+unlock"),
    LOCK_ONE_READ("lock+read+unlock"),
    LOCK_MANY("lock-many(" + MANY + ")+unlock");

    final String label;

    Operation(String label) {
      this.label = label;
    }
  }

  /** One line of the table. */
  record Row(
      String database,
      Operation operation,
      int threads,
      Measurement floor,
      Measurement pool,
      List<Double> pairRatios) {
    double ratio() {
      return pool.perSecond() / floor.perSecond();
    }

    String spread() {
      if (pairRatios.isEmpty()) {
        return "-";
      }
      List<Double> sorted = pairRatios.stream().sorted().toList();
      return String.format(Locale.ROOT, "%.2f-%.2f", sorted.get(0), sorted.get(sorted.size() - 1));
    }
  }

  private final BenchmarkSettings settings;
  private final BenchDatabase database;
  private final PrintStream out;
  private final String poolPrefix;
  private final String floorPrefix;

  private LockBenchmark(BenchmarkSettings settings, BenchDatabase database, PrintStream out) {
    this.settings = settings;
    this.database = database;
    this.out = out;
    String run = BenchDatabase.runId();
    this.poolPrefix = POOL_PREFIX + run + "_";
    this.floorPrefix = FLOOR_PREFIX + run + "_";
  }

  /**
   * Runs the benchmark.
   *
   * @param args settings, each {@code --key=value}; see {@link BenchmarkSettings}, and {@code
   *     --only} of {@link Selection}
   * @throws Exception when a database fails
   */
  public static void main(String[] args) throws Exception {
    Selection selection = Selection.parse(args);
    if (!selection.runs(Selection.LOCK)) {
      System.out.println("machinepool lock benchmark: skipped, only " + selection.only() + " runs");
      return;
    }
    BenchmarkSettings settings = BenchmarkSettings.parse(selection.args());
    BenchmarkArguments.defaultLogLevel(settings.servers().logLevel());
    PrintStream out = System.out;
    out.printf(
        Locale.ROOT,
        "machinepool lock benchmark: %d cores, Java %s, %s %s; threads %s, warm-up %s s,"
            + " %s s measured per side in %d slices; load average %.1f%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        settings.threads(),
        settings.warmup().toMillis() / 1000.0,
        settings.measure().toMillis() / 1000.0,
        settings.slices(),
        loadAverage());
    List<Row> rows = new ArrayList<>();
    for (String name : settings.servers().databases()) {
      switch (name) {
        case "h2" -> rows.addAll(runH2(settings, out));
        default -> {
          BenchDatabase server = settings.servers().server(name, out);
          if (server != null) {
            rows.addAll(new LockBenchmark(settings, server, out).run());
          }
        }
      }
    }
    out.println();
    printTable(rows, out);
  }

  private static List<Row> runH2(BenchmarkSettings settings, PrintStream out) throws Exception {
    BenchDatabase given = settings.servers().givenH2();
    if (given != null) {
      return new LockBenchmark(settings, given, out).run();
    }
    Path dir = Files.createTempDirectory("machinepool-bench");
    try (ShutdownHook hook =
        ShutdownHook.add("bench-h2-cleanup", () -> Directories.deleteTree(dir))) {
      String url = "jdbc:h2:file:" + dir.resolve("bench").toAbsolutePath();
      return new LockBenchmark(settings, new BenchDatabase("h2", url, BenchDatabase.Kind.H2), out)
          .run();
    } finally {
      Directories.deleteTree(dir);
    }
  }

  private List<Row> run() throws Exception {
    int size = settings.maxThreads();
    List<Row> rows = new ArrayList<>();
    try (HikariDataSource floorPool = database.pool("bench-floor", size, settings.readCommitted());
        HikariDataSource libraryPool =
            database.pool("bench-machinepool", size, settings.readCommitted())) {
      out.printf(
          Locale.ROOT,
          "%n%s: %s, pools of %d connections%s, %s, tables %s* and %s*; load average %.1f%n",
          database.label(),
          BenchDatabase.version(floorPool),
          size,
          settings.readCommitted() ? " set to READ COMMITTED" : "",
          settings.heldFloor()
              ? "floor holds a connection per thread, statements prepared once"
              : "floor borrows a connection per statement",
          floorPrefix,
          poolPrefix,
          loadAverage());
      try (ShutdownHook hook =
          ShutdownHook.add("bench-table-cleanup", () -> dropQuietly(floorPool))) {
        database.createTables(floorPool, floorPrefix);
        insertFloorMachines(floorPool);
        try (MachinePool pool =
            MachinePool.builder()
                .dataSource(libraryPool)
                .tablePrefix(poolPrefix)
                .releaseOnShutdown(true)
                .build()) {
          pool.inventory().addAll(specs());
          FloorLocks floor =
              new FloorLocks(
                  floorPool,
                  database.kind(),
                  floorPrefix + "machine",
                  floorPrefix + "host_key",
                  MANY,
                  settings.heldFloor());
          warmUp(floor, pool);
          out.println(HEADER);
          out.println(RULE);
          for (Operation operation : Operation.values()) {
            for (int threads : settings.threads()) {
              Row row = measure(operation, threads, floor, pool);
              rows.add(row);
              out.println(format(row));
            }
          }
          checkAllFree(floorPool, floorPrefix);
          checkAllFree(libraryPool, poolPrefix);
        }
      } finally {
        dropAll(floorPool);
      }
    }
    return rows;
  }

  private void warmUp(FloorLocks floor, MachinePool pool) throws InterruptedException {
    if (settings.warmup().isZero()) {
      return;
    }
    for (Operation operation : Operation.values()) {
      Measurement.run(
          settings.maxThreads(),
          floorCycle(operation, floor),
          settings.warmup(),
          settings.warmup());
      Measurement.run(
          settings.maxThreads(), poolCycle(operation, pool), settings.warmup(), settings.warmup());
    }
  }

  private Row measure(Operation operation, int threads, FloorLocks floor, MachinePool pool)
      throws InterruptedException {
    Measurement floorTotal = null;
    Measurement poolTotal = null;
    List<Double> pairRatios = new ArrayList<>();
    for (int slice = 0; slice < settings.slices(); slice++) {
      boolean floorFirst = slice % 2 == 0;
      Measurement floorSlice = null;
      Measurement poolSlice = null;
      for (int side = 0; side < 2; side++) {
        if ((side == 0) == floorFirst) {
          floorSlice =
              Measurement.run(
                  threads, floorCycle(operation, floor), settings.ramp(), settings.slice());
        } else {
          poolSlice =
              Measurement.run(
                  threads, poolCycle(operation, pool), settings.ramp(), settings.slice());
        }
      }
      floorTotal = floorTotal == null ? floorSlice : floorTotal.plus(floorSlice);
      poolTotal = poolTotal == null ? poolSlice : poolTotal.plus(poolSlice);
      if (floorSlice.cycles() > 0) {
        pairRatios.add(poolSlice.perSecond() / floorSlice.perSecond());
      }
    }
    return new Row(database.label(), operation, threads, floorTotal, poolTotal, pairRatios);
  }

  private static IntFunction<Measurement.Cycle> floorCycle(Operation operation, FloorLocks floor) {
    return thread -> {
      List<String> names = oneNames(thread);
      String type = manyType(thread);
      FloorLocks.Session session = floor.session();
      long[] n = {0};
      Measurement.Cycle run =
          switch (operation) {
            case LOCK_ONE ->
                () -> {
                  long i = n[0]++;
                  session.lockUnlock(
                      names.get((int) (i % names.size())), "floor-" + thread + "-" + i);
                };
            case LOCK_ONE_READ ->
                () -> {
                  long i = n[0]++;
                  session.lockReadUnlock(
                      names.get((int) (i % names.size())), "floor-" + thread + "-" + i);
                };
            case LOCK_MANY ->
                () -> session.lockManyUnlock(type, MANY, "floor-" + thread + "-" + n[0]++);
          };
      return new Measurement.Cycle() {
        @Override
        public void run() throws Exception {
          run.run();
        }

        @Override
        public void close() throws Exception {
          session.close();
        }
      };
    };
  }

  private static IntFunction<Measurement.Cycle> poolCycle(Operation operation, MachinePool pool) {
    return thread ->
        switch (operation) {
          case LOCK_ONE, LOCK_ONE_READ -> {
            List<LockRequest> requests =
                oneNames(thread).stream()
                    .map(name -> LockRequest.builder().owner(OWNER).names(name).build())
                    .toList();
            int[] n = {0};
            yield () -> pool.lock(requests.get(n[0]++ % requests.size())).close();
          }
          case LOCK_MANY -> {
            LockRequest request =
                LockRequest.builder()
                    .owner(OWNER)
                    .machineType(manyType(thread))
                    .count(MANY)
                    .build();
            yield () -> pool.lock(request).close();
          }
        };
  }

  private List<String> oneNamesAll() {
    List<String> names = new ArrayList<>();
    for (int t = 0; t < settings.maxThreads(); t++) {
      names.addAll(oneNames(t));
    }
    return names;
  }

  private static List<String> oneNames(int thread) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < MACHINES_PER_THREAD; i++) {
      names.add(String.format(Locale.ROOT, "bench-one-%03d-%d", thread, i));
    }
    return names;
  }

  private static String manyType(int thread) {
    return String.format(Locale.ROOT, "benchmany%03d", thread);
  }

  private static List<String> manyNames(int thread) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < MANY_MACHINES_PER_THREAD; i++) {
      names.add(String.format(Locale.ROOT, "bench-many-%03d-%d", thread, i));
    }
    return names;
  }

  /** The inventory, the same on both sides: [name, machine type] pairs. */
  private List<String[]> machines() {
    List<String[]> machines = new ArrayList<>();
    oneNamesAll().forEach(name -> machines.add(new String[] {name, "benchone"}));
    for (int t = 0; t < settings.maxThreads(); t++) {
      String type = manyType(t);
      manyNames(t).forEach(name -> machines.add(new String[] {name, type}));
    }
    return machines;
  }

  private List<MachineSpec> specs() {
    return machines().stream().map(m -> MachineSpec.physical(m[0], m[1])).toList();
  }

  private void insertFloorMachines(DataSource dataSource) throws SQLException {
    String sql =
        "INSERT INTO "
            + floorPrefix
            + "machine (name, machine_type, up, locked, generation) VALUES (?, ?, TRUE, FALSE, 0)";
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert = c.prepareStatement(sql)) {
        for (String[] machine : machines()) {
          insert.setString(1, machine[0]);
          insert.setString(2, machine[1]);
          insert.addBatch();
        }
        insert.executeBatch();
      }
      c.commit();
      c.setAutoCommit(true);
    }
  }

  private void checkAllFree(DataSource dataSource, String prefix) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement select =
            c.prepareStatement("SELECT COUNT(*) FROM " + prefix + "machine WHERE locked = TRUE");
        ResultSet rs = select.executeQuery()) {
      rs.next();
      int locked = rs.getInt(1);
      if (locked != 0) {
        out.printf("%s: %d machines of %smachine left locked%n", database.label(), locked, prefix);
      }
    }
  }

  private void dropAll(DataSource dataSource) throws SQLException {
    database.dropTables(dataSource, poolPrefix);
    database.dropTables(dataSource, floorPrefix);
  }

  /**
   * For the shutdown hook of an interrupted run: drops the tables, reporting instead of throwing.
   */
  private void dropQuietly(DataSource dataSource) {
    try {
      dropAll(dataSource);
      System.err.println("benchmark interrupted; dropped its tables on " + database.label());
    } catch (SQLException | RuntimeException e) {
      System.err.println(
          "benchmark interrupted; could not drop its tables "
              + floorPrefix
              + "* and "
              + poolPrefix
              + "* on "
              + database.label()
              + ": "
              + e);
    }
  }

  private static final String HEADER =
      "| database   | operation            | threads | floor ops/s | machinepool ops/s | ratio |"
          + " slice ratios | JVM CPU us/op floor | JVM CPU us/op machinepool | errors |";
  private static final String RULE =
      "|------------|----------------------|--------:|------------:|------------------:|------:|"
          + "-------------:|--------------------:|--------------------------:|-------:|";

  private static String format(Row row) {
    return String.format(
        Locale.ROOT,
        "| %-10s | %-20s | %7d | %11.0f | %17.0f | %5.2f | %12s | %19.0f | %25.0f | %6d |%s",
        row.database(),
        row.operation().label,
        row.threads(),
        row.floor().perSecond(),
        row.pool().perSecond(),
        row.ratio(),
        row.spread(),
        row.floor().cpuMicrosPerCycle(),
        row.pool().cpuMicrosPerCycle(),
        row.floor().errors() + row.pool().errors(),
        firstError(row));
  }

  private static String firstError(Row row) {
    Throwable e =
        row.floor().firstError() != null ? row.floor().firstError() : row.pool().firstError();
    return e == null ? "" : " first error: " + e;
  }

  private static void printTable(List<Row> rows, PrintStream out) {
    out.println(HEADER);
    out.println(RULE);
    rows.forEach(row -> out.println(format(row)));
  }

  /** The system load average of the last minute, or -1 where the platform does not tell. */
  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
