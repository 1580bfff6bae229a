package io.machinepool.examples.benchmark;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What one benchmark run measures and for how long. Each setting is read, first found wins, from a
 * program argument {@code --key=value}, a system property {@code benchmark.key}, and for the server
 * URLs the environment variables the test suite uses; an empty value counts as unset.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>seconds</td><td>4</td><td>measured time of each cell, per side</td></tr>
 *   <tr><td>slices</td><td>8</td><td>the measured time is cut into this many slices, the two
 *       sides taking turns, so that both see the same load of the machine</td></tr>
 *   <tr><td>warmup</td><td>5</td><td>warm-up per database, side and operation before measuring
 *       (each slice also starts with a short unmeasured ramp)</td></tr>
 *   <tr><td>threads</td><td>1,4,16</td><td>thread counts</td></tr>
 *   <tr><td>databases</td><td>h2,postgresql,mariadb</td><td>which databases to run on</td></tr>
 *   <tr><td>h2</td><td>a file database in a temporary directory</td><td>H2 JDBC URL</td></tr>
 *   <tr><td>postgres</td><td>{@code $MACHINEPOOL_TEST_POSTGRES_URL}</td><td>PostgreSQL URL</td></tr>
 *   <tr><td>mariadb</td><td>{@code $MACHINEPOOL_TEST_MARIADB_URL}</td><td>MariaDB URL</td></tr>
 *   <tr><td>isolation</td><td>default</td><td>{@code read-committed} configures both connection
 *       pools with READ COMMITTED; {@code default} keeps the driver's default</td></tr>
 *   <tr><td>log</td><td>warn</td><td>slf4j-simple level of the library's own logging</td></tr>
 *   <tr><td>floor</td><td>pooled</td><td>{@code pooled}: the floor borrows a pooled connection
 *       and prepares its statement for every statement or transaction, as machinepool does;
 *       {@code held}: each floor thread holds one connection, its statements prepared once</td></tr>
 * </table>
 *
 * @param measure measured time of each cell, per side
 * @param warmup warm-up per database, side and operation
 * @param slices how many slices the measured time is cut into, the sides taking turns
 * @param threads the thread counts, ascending
 * @param servers the databases to run on, their URLs and the library's log level
 * @param readCommitted whether both connection pools are configured with READ COMMITTED
 * @param heldFloor whether each floor thread holds one connection and its prepared statements
 */
public record BenchmarkSettings(
    Duration measure,
    Duration warmup,
    int slices,
    List<Integer> threads,
    BenchServers servers,
    boolean readCommitted,
    boolean heldFloor) {

  /** The environment variable with the PostgreSQL URL, shared with the test suite. */
  public static final String POSTGRES_ENV = "MACHINEPOOL_TEST_POSTGRES_URL";

  /** The environment variable with the MariaDB URL, shared with the test suite. */
  public static final String MARIADB_ENV = "MACHINEPOOL_TEST_MARIADB_URL";

  /** Validates the settings. */
  public BenchmarkSettings {
    if (measure.isNegative() || measure.isZero()) {
      throw new IllegalArgumentException("seconds must be positive, was " + measure);
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup must not be negative, was " + warmup);
    }
    if (slices < 1 || slices > 1000) {
      throw new IllegalArgumentException("slices must be 1 to 1000, was " + slices);
    }
    if (threads.isEmpty() || threads.stream().anyMatch(t -> t < 1 || t > 256)) {
      throw new IllegalArgumentException("threads must be 1 to 256 each, was " + threads);
    }
    threads = threads.stream().sorted().distinct().toList();
  }

  /**
   * Reads the settings.
   *
   * @param args program arguments, each {@code --key=value}
   * @return the settings
   * @throws IllegalArgumentException on an unknown key or a malformed value
   */
  public static BenchmarkSettings parse(String... args) {
    BenchmarkArguments given =
        BenchmarkArguments.parse(
            args,
            BenchServers.keysAnd("seconds", "warmup", "slices", "threads", "isolation", "floor"));
    return new BenchmarkSettings(
        BenchmarkArguments.seconds(given.value("seconds", "benchmark.seconds", null, "4")),
        BenchmarkArguments.seconds(given.value("warmup", "benchmark.warmup", null, "5")),
        Integer.parseInt(given.value("slices", "benchmark.slices", null, "8")),
        Arrays.stream(given.value("threads", "benchmark.threads", null, "1,4,16").split(","))
            .map(String::trim)
            .map(Integer::parseInt)
            .toList(),
        BenchServers.read(given),
        isolation(given.value("isolation", "benchmark.isolation", null, "default")),
        held(given.value("floor", "benchmark.floor", null, "pooled")));
  }

  private static boolean isolation(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "default" -> false;
      case "read-committed" -> true;
      default ->
          throw new IllegalArgumentException(
              "isolation must be default or read-committed, was " + value);
    };
  }

  private static boolean held(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "pooled" -> false;
      case "held" -> true;
      default -> throw new IllegalArgumentException("floor must be pooled or held, was " + value);
    };
  }

  /**
   * The most threads any cell uses; the connection pools are this large.
   *
   * @return the largest thread count
   */
  public int maxThreads() {
    return threads.get(threads.size() - 1);
  }

  /**
   * The measured time of one slice.
   *
   * @return {@code measure / slices}
   */
  public Duration slice() {
    return measure.dividedBy(slices);
  }

  /**
   * The unmeasured ramp at the start of each slice, while the threads start and get their
   * connections: a tenth of the slice, at least 50 ms.
   *
   * @return the ramp
   */
  public Duration ramp() {
    Duration tenth = slice().dividedBy(10);
    return tenth.compareTo(Duration.ofMillis(50)) < 0 ? Duration.ofMillis(50) : tenth;
  }
}
