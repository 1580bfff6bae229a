package io.machinepool.examples.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which of the benchmarks of the {@code benchmark} profile run: the program argument {@code
 * --only=lock|starvation|scale}, else the system property {@code benchmark.only}; empty (the
 * default), {@code both} or {@code all} runs every one. Each benchmark's main reads it first and
 * returns at once, saying so, when it is not selected, so that the profile can run all of them or
 * one.
 *
 * @param only the benchmark selected, or {@code null} for all of them
 * @param rest the program arguments other than {@code --only}
 */
public record Selection(String only, List<String> rest) {
  /** The lock throughput benchmark, {@link LockBenchmark}. */
  public static final String LOCK = "lock";

  /** The starvation benchmark, {@link StarvationBenchmark}. */
  public static final String STARVATION = "starvation";

  /** The scale and churn benchmark, {@link ScaleBenchmark}. */
  public static final String SCALE = "scale";

  private static final Set<String> NAMES = Set.of(LOCK, STARVATION, SCALE);

  /** Validates the selection and copies the arguments. */
  public Selection {
    if (only != null && !NAMES.contains(only)) {
      throw new IllegalArgumentException(
          "only must be "
              + LOCK
              + ", "
              + STARVATION
              + ", "
              + SCALE
              + " or empty for all, was "
              + only);
    }
    rest = List.copyOf(rest);
  }

  /**
   * Reads the selection.
   *
   * @param args program arguments, among them perhaps {@code --only=...}
   * @return the selection and the other arguments
   * @throws IllegalArgumentException when it names no known benchmark
   */
  public static Selection parse(String... args) {
    String given = null;
    List<String> rest = new ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("--only=")) {
        given = arg.substring("--only=".length());
      } else {
        rest.add(arg);
      }
    }
    if (given == null || given.isBlank()) {
      given = System.getProperty("benchmark.only");
    }
    String value = given == null ? "" : given.trim().toLowerCase(Locale.ROOT);
    return new Selection(
        value.isEmpty() || value.equals("both") || value.equals("all") ? null : value, rest);
  }

  /**
   * Whether a benchmark runs.
   *
   * @param benchmark {@link #LOCK}, {@link #STARVATION} or {@link #SCALE}
   * @return {@code true} when it is selected or all are
   */
  public boolean runs(String benchmark) {
    return only == null || only.equals(benchmark);
  }

  /**
   * The other program arguments, for the benchmark's own settings.
   *
   * @return the arguments without {@code --only}
   */
  public String[] args() {
    return rest.toArray(String[]::new);
  }
}
