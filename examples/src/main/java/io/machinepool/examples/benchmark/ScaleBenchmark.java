package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.examples.support.Directories;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Measures whether locking stays fast in a big lab and as the machine table churns, on H2 and on
 * the PostgreSQL and MariaDB servers given by URL, and prints one table of each.
 *
 * <ul>
 *   <li><b>Scale cells</b> ({@link ScaleCell}): a lab of 10,000 physical machines in 20 types,
 *       1,000 of them held by another owner; how long lock-many({@value ScaleCell#MANY}) and the
 *       close of its lease take, one call at a time, against a bare-SQL floor on a table of the
 *       same lab; and how long listing every machine and the summary take.
 *   <li><b>Churn cells</b> ({@link ChurnCell}): a fresh lab of the same size per thread count (1
 *       and 4), each thread locking {@value ChurnCell#MANY} machines of a type of its own and
 *       closing the lease for 180 s, the cycles counted per 10 s window; the table's health (dead
 *       rows, sizes, purge lag) before and after.
 * </ul>
 *
 * <p>Tables get a random part per run ({@value #SCALE_PREFIX}<i>run</i>{@code _}, {@value
 * #FLOOR_PREFIX}<i>run</i>{@code _}, {@value #CHURN_PREFIX}<i>run</i>{@code _}<i>threads</i>{@code
 * _}) and are dropped at the end, also when the run is interrupted. Without a given H2 URL each
 * cell gets an H2 file database of its own in a temporary directory, so that the file's size is the
 * cell's.
 *
 * <p>Settings: see {@link ScaleSettings}. The tables go to standard output.
 */
public final class ScaleBenchmark {
  /** Start of the library's table prefix in the scale cells, before the run's random part. */
  public static final String SCALE_PREFIX = "bench_scale_";

  /** Start of the floor's table prefix in the scale cells, before the run's random part. */
  public static final String FLOOR_PREFIX = "bench_scalefloor_";

  /** Start of the table prefix of the churn cells, before the run's random part. */
  public static final String CHURN_PREFIX = "bench_churn_";

  private final ScaleSettings settings;
  private final String label;
  private final Function<String, BenchDatabase> cellDatabase;
  private final PrintStream out;
  private final String run;

  /**
   * @param cellDatabase the database of a cell, by the cell's name ({@code scale}, {@code churn-1},
   *     ...): the same server for every cell, or an H2 file of its own
   */
  private ScaleBenchmark(
      ScaleSettings settings,
      String label,
      Function<String, BenchDatabase> cellDatabase,
      PrintStream out) {
    this.settings = settings;
    this.label = label;
    this.cellDatabase = cellDatabase;
    this.out = out;
    this.run = BenchDatabase.runId();
  }

  /**
   * Runs the benchmark.
   *
   * @param args settings, each {@code --key=value}; see {@link ScaleSettings}, and {@code --only}
   *     of {@link Selection}
   * @throws Exception when a database fails
   */
  public static void main(String[] args) throws Exception {
    Selection selection = Selection.parse(args);
    if (!selection.runs(Selection.SCALE)) {
      System.out.println(
          "machinepool scale benchmark: skipped, only " + selection.only() + " runs");
      return;
    }
    ScaleSettings settings = ScaleSettings.parse(selection.args());
    BenchmarkArguments.defaultLogLevel(settings.servers().logLevel());
    PrintStream out = System.out;
    out.printf(
        Locale.ROOT,
        "machinepool scale benchmark, %s: %d cores, Java %s, %s %s; %d machines in %d types, %d"
            + " held; lock-many(%d) %d times after %d, per side; list and summary %d times after"
            + " %d; churn lock-many(%d) with %s threads, %d s in windows of %d s; pools of %d"
            + " connections; load average %.1f%n",
        Instant.now().truncatedTo(ChronoUnit.SECONDS),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        settings.machines(),
        settings.types(),
        settings.held(),
        ScaleCell.MANY,
        settings.repetitions(),
        settings.warmup(),
        settings.listRepetitions(),
        settings.listWarmup(),
        ChurnCell.MANY,
        settings.churnThreads(),
        settings.churnTime().toSeconds(),
        settings.churnWindow().toSeconds(),
        ScaleCell.CONNECTIONS,
        loadAverage());
    List<ScaleCell.Row> scaleRows = new ArrayList<>();
    List<ChurnCell.Row> churnRows = new ArrayList<>();
    for (String name : settings.servers().databases()) {
      switch (name) {
        case "h2" -> runH2(settings, out, scaleRows, churnRows);
        default -> {
          BenchDatabase server = settings.servers().server(name, out);
          if (server != null) {
            new ScaleBenchmark(settings, server.label(), cell -> server, out)
                .run(scaleRows, churnRows);
          }
        }
      }
    }
    out.println();
    if (settings.scaleCells()) {
      printScale(scaleRows, out);
      out.println();
    }
    if (settings.churnCells()) {
      printChurn(churnRows, out);
    }
    out.printf(Locale.ROOT, "load average at the end %.1f%n", loadAverage());
  }

  private static void runH2(
      ScaleSettings settings,
      PrintStream out,
      List<ScaleCell.Row> scaleRows,
      List<ChurnCell.Row> churnRows)
      throws Exception {
    BenchDatabase given = settings.servers().givenH2();
    if (given != null) {
      new ScaleBenchmark(settings, "h2", cell -> given, out).run(scaleRows, churnRows);
      return;
    }
    Path dir = Files.createTempDirectory("machinepool-scale");
    try (ShutdownHook hook =
        ShutdownHook.add("bench-h2-cleanup", () -> Directories.deleteTree(dir))) {
      new ScaleBenchmark(
              settings,
              "h2",
              cell ->
                  new BenchDatabase(
                      "h2",
                      "jdbc:h2:file:" + dir.resolve(cell).toAbsolutePath(),
                      BenchDatabase.Kind.H2),
              out)
          .run(scaleRows, churnRows);
    } finally {
      Directories.deleteTree(dir);
    }
  }

  private void run(List<ScaleCell.Row> scaleRows, List<ChurnCell.Row> churnRows) throws Exception {
    BenchDatabase first = cellDatabase.apply("version");
    try (HikariDataSource probe = first.pool("scale-version", 1, false)) {
      out.printf(
          Locale.ROOT,
          "%n%s: %s; load average %.1f%n",
          label,
          BenchDatabase.version(probe),
          loadAverage());
    }
    if (settings.scaleCells()) {
      List<ScaleCell.Row> rows =
          new ScaleCell(
                  settings,
                  cellDatabase.apply("scale"),
                  out,
                  SCALE_PREFIX + run + "_",
                  FLOOR_PREFIX + run + "_")
              .run();
      printScale(rows, out);
      scaleRows.addAll(rows);
    }
    if (settings.churnCells()) {
      out.println("  churn health: " + TableHealth.dataMeaning(first.kind()));
      if (!settings.churnWarmup().isZero()) {
        new ChurnCell(settings, cellDatabase.apply("churn-warmup"), out, CHURN_PREFIX + run + "_w_")
            .warmUp(
                settings.churnThreads().get(settings.churnThreads().size() - 1),
                settings.churnWarmup());
      }
      for (int threads : settings.churnThreads()) {
        ChurnCell.Row row =
            new ChurnCell(
                    settings,
                    cellDatabase.apply("churn-" + threads),
                    out,
                    CHURN_PREFIX + run + "_" + threads + "_")
                .run(threads);
        printChurn(List.of(row), out);
        churnRows.add(row);
      }
    }
  }

  private static final String SCALE_HEADER =
      "| database   | operation      | calls | median ms | p90 ms | p99 ms | max ms |"
          + " floor median ms | ratio | errors |";
  private static final String SCALE_RULE =
      "|------------|----------------|------:|----------:|-------:|-------:|-------:|"
          + "----------------:|------:|-------:|";

  private static void printScale(List<ScaleCell.Row> rows, PrintStream out) {
    out.println(SCALE_HEADER);
    out.println(SCALE_RULE);
    for (ScaleCell.Row row : rows) {
      Latencies lib = row.library();
      Latencies floor = row.floor();
      out.printf(
          Locale.ROOT,
          "| %-10s | %-14s | %5d | %9.2f | %6.2f | %6s | %6.2f | %15s | %5s | %6d |%s%n",
          row.database(),
          row.operation(),
          lib.count(),
          lib.medianMillis(),
          lib.percentileMillis(90),
          lib.count() >= 100 ? String.format(Locale.ROOT, "%.2f", lib.percentileMillis(99)) : "-",
          lib.maxMillis(),
          floor == null ? "-" : String.format(Locale.ROOT, "%.2f", floor.medianMillis()),
          floor == null
              ? "-"
              : String.format(Locale.ROOT, "%.2f", lib.medianMillis() / floor.medianMillis()),
          row.errors(),
          row.firstError() == null ? "" : " first error: " + row.firstError());
    }
  }

  private static final String CHURN_HEADER =
      "| database   | threads |   cycles | first window/s | last window/s | last/first |"
          + " slowest window/s | errors |   updates | HOT % |       dead rows |     data KiB |"
          + "    index KiB |      file KiB | history length |";
  private static final String CHURN_RULE =
      "|------------|--------:|---------:|---------------:|--------------:|-----------:|"
          + "-----------------:|-------:|----------:|------:|----------------:|-------------:|"
          + "-------------:|--------------:|---------------:|";

  private static void printChurn(List<ChurnCell.Row> rows, PrintStream out) {
    out.println(CHURN_HEADER);
    out.println(CHURN_RULE);
    for (ChurnCell.Row row : rows) {
      List<Double> windows = row.windows();
      double firstRate = windows.get(0);
      double lastRate = windows.get(windows.size() - 1);
      int slowest = 0;
      for (int w = 1; w < windows.size(); w++) {
        if (windows.get(w) < windows.get(slowest)) {
          slowest = w;
        }
      }
      TableHealth before = row.before();
      TableHealth after = row.after();
      long updates = after.updates() < 0 ? -1 : after.updates() - Math.max(0, before.updates());
      long hot =
          after.hotUpdates() < 0 ? -1 : after.hotUpdates() - Math.max(0, before.hotUpdates());
      out.printf(
          Locale.ROOT,
          "| %-10s | %7d | %8d | %14.0f | %13.0f | %10.2f | %16s | %6d | %9s | %5s | %15s | %12s |"
              + " %12s | %13s | %14s |%s%n",
          row.database(),
          row.threads(),
          row.cycles(),
          firstRate,
          lastRate,
          lastRate / firstRate,
          String.format(Locale.ROOT, "%.0f (#%d)", windows.get(slowest), slowest + 1),
          row.errors(),
          updates < 0 ? "n/a" : Long.toString(updates),
          updates <= 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", 100.0 * hot / updates),
          change(before.deadRows(), after.deadRows(), 1),
          change(before.dataBytes(), after.dataBytes(), 1024),
          change(before.indexBytes(), after.indexBytes(), 1024),
          change(before.fileBytes(), after.fileBytes(), 1024),
          change(before.historyLength(), after.historyLength(), 1),
          row.firstError() == null ? "" : " first error: " + row.firstError());
    }
  }

  /** {@code before->after} in a unit, or n/a when the database has no such figure. */
  private static String change(long before, long after, long unit) {
    if (before < 0 || after < 0) {
      return "n/a";
    }
    return Math.round((double) before / unit) + "->" + Math.round((double) after / unit);
  }

  /**
   * The system load average of the last minute.
   *
   * @return the load average, or -1 where the platform does not tell
   */
  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
