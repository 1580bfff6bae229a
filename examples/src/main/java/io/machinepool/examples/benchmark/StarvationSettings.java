package io.machinepool.examples.benchmark;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What one run of the starvation benchmark does. Each setting is read, first found wins, from a
 * program argument {@code --key=value}, a system property (named in the table), and for the server
 * URLs the environment variables the test suite uses; an empty value counts as unset.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>key</th><th>system property</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>requests</td><td>benchmark.starvation.requests</td><td>10</td><td>how many requests
 *       for {@value StarvationBenchmark#BIG} machines the big requester makes</td></tr>
 *   <tr><td>wait</td><td>benchmark.starvation.wait</td><td>20</td><td>the {@code waitUpTo} of
 *       each big request, in seconds</td></tr>
 *   <tr><td>priority</td><td>benchmark.starvation.priority</td><td>unset</td><td>the big
 *       requests' priority, where the library's {@code LockRequest.Builder} has {@code
 *       priority(int)}; unset leaves every request at the same (default) priority</td></tr>
 *   <tr><td>output</td><td>benchmark.starvation.output</td><td>{@code
 *       target/starvation-benchmark.md}</td><td>the file the table is appended to</td></tr>
 *   <tr><td>databases</td><td>benchmark.databases</td><td>h2,postgresql,mariadb</td><td>which
 *       databases to run on</td></tr>
 *   <tr><td>h2</td><td>benchmark.h2</td><td>a file database in a temporary directory</td><td>H2
 *       JDBC URL</td></tr>
 *   <tr><td>postgres</td><td>benchmark.postgres</td><td>{@code
 *       $MACHINEPOOL_TEST_POSTGRES_URL}</td><td>PostgreSQL URL</td></tr>
 *   <tr><td>mariadb</td><td>benchmark.mariadb</td><td>{@code
 *       $MACHINEPOOL_TEST_MARIADB_URL}</td><td>MariaDB URL</td></tr>
 *   <tr><td>log</td><td>benchmark.log</td><td>warn</td><td>slf4j-simple level of the library's
 *       own logging</td></tr>
 * </table>
 *
 * @param requests how many big requests to make
 * @param bigWait the {@code waitUpTo} of each big request
 * @param bigPriority the big requests' priority, or {@code null} to leave it at the default
 * @param output the file the table is appended to
 * @param servers the databases to run on, their URLs and the library's log level
 */
public record StarvationSettings(
    int requests, Duration bigWait, Integer bigPriority, Path output, BenchServers servers) {

  /** Validates the settings. */
  public StarvationSettings {
    if (requests < 1 || requests > 10_000) {
      throw new IllegalArgumentException("requests must be 1 to 10000, was " + requests);
    }
    if (bigWait.isNegative() || bigWait.compareTo(Duration.ofDays(7)) > 0) {
      throw new IllegalArgumentException("wait must be 0 s to 7 days, was " + bigWait);
    }
  }

  /**
   * Reads the settings.
   *
   * @param args program arguments, each {@code --key=value}
   * @return the settings
   * @throws IllegalArgumentException on an unknown key or a malformed value
   */
  public static StarvationSettings parse(String... args) {
    BenchmarkArguments given =
        BenchmarkArguments.parse(
            args, BenchServers.keysAnd("requests", "wait", "priority", "output"));
    String priority = given.value("priority", "benchmark.starvation.priority", null, null);
    return new StarvationSettings(
        Integer.parseInt(given.value("requests", "benchmark.starvation.requests", null, "10")),
        BenchmarkArguments.seconds(given.value("wait", "benchmark.starvation.wait", null, "20")),
        priority == null ? null : Integer.valueOf(priority),
        Path.of(
            given.value(
                "output", "benchmark.starvation.output", null, "target/starvation-benchmark.md")),
        BenchServers.read(given));
  }
}
