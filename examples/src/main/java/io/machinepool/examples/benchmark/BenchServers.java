package io.machinepool.examples.benchmark;

import java.io.PrintStream;
import java.util.List;
import java.util.stream.Stream;

/**
 * The settings every benchmark reads alike: which databases to run on, where they are, and the
 * library's log level. The keys, system properties and defaults are in each benchmark's settings
 * table: {@code databases} ({@code benchmark.databases}, {@code h2,postgresql,mariadb}), {@code h2}
 * ({@code benchmark.h2}), {@code postgres} ({@code benchmark.postgres}, else {@code
 * $MACHINEPOOL_TEST_POSTGRES_URL}), {@code mariadb} ({@code benchmark.mariadb}, else {@code
 * $MACHINEPOOL_TEST_MARIADB_URL}) and {@code log} ({@code benchmark.log}, {@code warn}).
 *
 * @param databases the databases to run on, in order
 * @param h2Url the H2 URL, or {@code null} for file databases the benchmark makes in a temporary
 *     directory
 * @param postgresUrl the PostgreSQL URL, or {@code null} to skip PostgreSQL
 * @param mariadbUrl the MariaDB URL, or {@code null} to skip MariaDB
 * @param logLevel the slf4j-simple level for everything but the benchmark's own lines
 */
public record BenchServers(
    List<String> databases, String h2Url, String postgresUrl, String mariadbUrl, String logLevel) {

  /** The keys of these settings. */
  private static final List<String> KEYS = List.of("databases", "h2", "postgres", "mariadb", "log");

  /** Copies the list. */
  public BenchServers {
    databases = List.copyOf(databases);
  }

  /**
   * A benchmark's keys followed by these settings' keys, for {@link BenchmarkArguments#parse}.
   *
   * @param own the benchmark's own keys
   * @return every key the benchmark knows
   */
  static List<String> keysAnd(String... own) {
    return Stream.concat(Stream.of(own), KEYS.stream()).toList();
  }

  /**
   * Reads the settings.
   *
   * @param given the program arguments, parsed with {@link #keysAnd} as the known keys
   * @return the settings
   */
  static BenchServers read(BenchmarkArguments given) {
    return new BenchServers(
        BenchmarkArguments.list(
            given.value("databases", "benchmark.databases", null, "h2,postgresql,mariadb")),
        given.value("h2", "benchmark.h2", null, null),
        given.value("postgres", "benchmark.postgres", BenchmarkSettings.POSTGRES_ENV, null),
        given.value("mariadb", "benchmark.mariadb", BenchmarkSettings.MARIADB_ENV, null),
        given.value("log", "benchmark.log", null, "warn"));
  }

  /**
   * The H2 database the {@code h2} setting names, or {@code null} when the benchmark makes its own.
   */
  BenchDatabase givenH2() {
    return h2Url == null ? null : new BenchDatabase("h2", h2Url, BenchDatabase.kindOf(h2Url));
  }

  /**
   * The database server a name of {@code databases} stands for, or {@code null} after saying on
   * {@code out} that it is skipped (see {@link BenchDatabase#server}).
   */
  BenchDatabase server(String name, PrintStream out) {
    return BenchDatabase.server(name, postgresUrl, mariadbUrl, out);
  }
}
