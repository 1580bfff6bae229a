package io.machinepool.examples.benchmark;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * What one run of the scale and churn benchmark does. Each setting is read, first found wins, from
 * a program argument {@code --key=value}, a system property (named in the table), and for the
 * server URLs the environment variables the test suite uses; an empty value counts as unset.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>key</th><th>system property</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>machines</td><td>benchmark.scale.machines</td><td>10000</td><td>physical machines in
 *       the lab</td></tr>
 *   <tr><td>types</td><td>benchmark.scale.types</td><td>20</td><td>machine types, the machines
 *       spread evenly over them</td></tr>
 *   <tr><td>held</td><td>benchmark.scale.held</td><td>1000</td><td>machines, picked at random,
 *       that another owner holds for the whole cell</td></tr>
 *   <tr><td>repetitions</td><td>benchmark.scale.repetitions</td><td>200</td><td>timed
 *       lock-many({@value ScaleCell#MANY}) and close calls per side</td></tr>
 *   <tr><td>warmup</td><td>benchmark.scale.warmup</td><td>50</td><td>untimed ones before
 *       them, per side</td></tr>
 *   <tr><td>list-repetitions</td><td>benchmark.scale.list.repetitions</td><td>20</td><td>timed
 *       listings of every machine, and summaries</td></tr>
 *   <tr><td>list-warmup</td><td>benchmark.scale.list.warmup</td><td>5</td><td>untimed ones
 *       before them</td></tr>
 *   <tr><td>churn-seconds</td><td>benchmark.scale.churn.seconds</td><td>180</td><td>how long
 *       each churn cell runs</td></tr>
 *   <tr><td>churn-window</td><td>benchmark.scale.churn.window</td><td>10</td><td>the churn
 *       cells' cycles are counted per window of this many seconds</td></tr>
 *   <tr><td>churn-warmup</td><td>benchmark.scale.churn.warmup</td><td>10</td><td>seconds of
 *       churn on a lab of its own, not reported, before the first churn cell of each database; 0
 *       for none</td></tr>
 *   <tr><td>churn-threads</td><td>benchmark.scale.churn.threads</td><td>1,4</td><td>thread
 *       counts of the churn cells, each thread on a machine type of its own</td></tr>
 *   <tr><td>cells</td><td>benchmark.scale.cells</td><td>scale,churn</td><td>which cells
 *       run</td></tr>
 *   <tr><td>databases</td><td>benchmark.databases</td><td>h2,postgresql,mariadb</td><td>which
 *       databases to run on</td></tr>
 *   <tr><td>h2</td><td>benchmark.h2</td><td>a file database per cell in a temporary
 *       directory</td><td>H2 JDBC URL</td></tr>
 *   <tr><td>postgres</td><td>benchmark.postgres</td><td>{@code
 *       $MACHINEPOOL_TEST_POSTGRES_URL}</td><td>PostgreSQL URL</td></tr>
 *   <tr><td>mariadb</td><td>benchmark.mariadb</td><td>{@code
 *       $MACHINEPOOL_TEST_MARIADB_URL}</td><td>MariaDB URL</td></tr>
 *   <tr><td>log</td><td>benchmark.log</td><td>warn</td><td>slf4j-simple level of the library's
 *       own logging</td></tr>
 * </table>
 *
 * @param machines physical machines in the lab
 * @param types machine types
 * @param held machines another owner holds for the whole cell
 * @param repetitions timed lock-many and close calls per side
 * @param warmup untimed lock-many and close calls before them, per side
 * @param listRepetitions timed listings and summaries
 * @param listWarmup untimed listings and summaries before them
 * @param churnTime how long each churn cell runs
 * @param churnWindow the length of a churn cell's counting window
 * @param churnWarmup how long the unreported churn before each database's churn cells runs
 * @param churnThreads the churn cells' thread counts, ascending
 * @param scaleCells whether the scale cells run
 * @param churnCells whether the churn cells run
 * @param servers the databases to run on, their URLs and the library's log level
 */
public record ScaleSettings(
    int machines,
    int types,
    int held,
    int repetitions,
    int warmup,
    int listRepetitions,
    int listWarmup,
    Duration churnTime,
    Duration churnWindow,
    Duration churnWarmup,
    List<Integer> churnThreads,
    boolean scaleCells,
    boolean churnCells,
    BenchServers servers) {

  /** Validates the settings. */
  public ScaleSettings {
    if (types < 1 || types > 1000) {
      throw new IllegalArgumentException("types must be 1 to 1000, was " + types);
    }
    if (machines < types || machines > 1_000_000) {
      throw new IllegalArgumentException(
          "machines must be at least types (" + types + ") and at most 1000000, was " + machines);
    }
    if (held < 0 || held >= machines) {
      throw new IllegalArgumentException("held must be 0 to machines - 1, was " + held);
    }
    if (repetitions < 1 || warmup < 0 || listRepetitions < 1 || listWarmup < 0) {
      throw new IllegalArgumentException(
          "repetitions must be positive and warm-ups not negative, were "
              + List.of(repetitions, warmup, listRepetitions, listWarmup));
    }
    if (churnWindow.isNegative() || churnWindow.isZero()) {
      throw new IllegalArgumentException("churn-window must be positive, was " + churnWindow);
    }
    if (churnWarmup.isNegative()) {
      throw new IllegalArgumentException("churn-warmup must not be negative, was " + churnWarmup);
    }
    if (churnTime.compareTo(churnWindow) < 0) {
      throw new IllegalArgumentException(
          "churn-seconds must be at least one window (" + churnWindow + "), was " + churnTime);
    }
    if (churnThreads.isEmpty() || churnThreads.stream().anyMatch(t -> t < 1 || t > types)) {
      throw new IllegalArgumentException(
          "churn-threads must be 1 to types (" + types + ") each, was " + churnThreads);
    }
    if (!scaleCells && !churnCells) {
      throw new IllegalArgumentException("cells must name scale, churn or both");
    }
    churnThreads = churnThreads.stream().sorted().distinct().toList();
  }

  /**
   * Reads the settings.
   *
   * @param args program arguments, each {@code --key=value}
   * @return the settings
   * @throws IllegalArgumentException on an unknown key or a malformed value
   */
  public static ScaleSettings parse(String... args) {
    BenchmarkArguments given =
        BenchmarkArguments.parse(
            args,
            BenchServers.keysAnd(
                "machines",
                "types",
                "held",
                "repetitions",
                "warmup",
                "list-repetitions",
                "list-warmup",
                "churn-seconds",
                "churn-window",
                "churn-warmup",
                "churn-threads",
                "cells"));
    List<String> cells =
        BenchmarkArguments.list(given.value("cells", "benchmark.scale.cells", null, "scale,churn"));
    for (String cell : cells) {
      if (!cell.equals("scale") && !cell.equals("churn")) {
        throw new IllegalArgumentException("cells must be scale, churn or both, was " + cells);
      }
    }
    return new ScaleSettings(
        number(given.value("machines", "benchmark.scale.machines", null, "10000")),
        number(given.value("types", "benchmark.scale.types", null, "20")),
        number(given.value("held", "benchmark.scale.held", null, "1000")),
        number(given.value("repetitions", "benchmark.scale.repetitions", null, "200")),
        number(given.value("warmup", "benchmark.scale.warmup", null, "50")),
        number(given.value("list-repetitions", "benchmark.scale.list.repetitions", null, "20")),
        number(given.value("list-warmup", "benchmark.scale.list.warmup", null, "5")),
        BenchmarkArguments.seconds(
            given.value("churn-seconds", "benchmark.scale.churn.seconds", null, "180")),
        BenchmarkArguments.seconds(
            given.value("churn-window", "benchmark.scale.churn.window", null, "10")),
        BenchmarkArguments.seconds(
            given.value("churn-warmup", "benchmark.scale.churn.warmup", null, "10")),
        Arrays.stream(
                given
                    .value("churn-threads", "benchmark.scale.churn.threads", null, "1,4")
                    .split(","))
            .map(String::trim)
            .map(ScaleSettings::number)
            .toList(),
        cells.contains("scale"),
        cells.contains("churn"),
        BenchServers.read(given));
  }

  /** A whole number, allowing {@code _} between digits ({@code 10_000}). */
  private static int number(String value) {
    return Integer.parseInt(value.replace("_", ""));
  }

  /**
   * How many windows a churn cell counts: its time divided by the window, rounded down.
   *
   * @return at least 1
   */
  public int churnWindows() {
    return (int) (churnTime.toMillis() / churnWindow.toMillis());
  }
}
