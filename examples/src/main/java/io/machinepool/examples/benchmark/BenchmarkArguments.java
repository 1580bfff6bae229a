package io.machinepool.examples.benchmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --key=value} arguments of a benchmark program, each also settable by a system property
 * (and some by an environment variable): the one reader of both benchmarks' settings.
 */
final class BenchmarkArguments {
  private final Map<String, String> given;

  private BenchmarkArguments(Map<String, String> given) {
    this.given = given;
  }

  /**
   * Sets the library's log level for the run, unless the system property of the SLF4J simple
   * binding already names one.
   *
   * @param level the level the settings give
   */
  static void defaultLogLevel(String level) {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
    }
  }

  /**
   * Reads the arguments.
   *
   * @param args program arguments, each {@code --key=value}
   * @param known the keys the program knows
   * @return the arguments
   * @throws IllegalArgumentException on an argument of another form or an unknown key
   */
  static BenchmarkArguments parse(String[] args, List<String> known) {
    Map<String, String> given = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --key=value, got " + arg);
      }
      int eq = arg.indexOf('=');
      given.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    for (String key : given.keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException("unknown setting --" + key + "; known: " + known);
      }
    }
    return new BenchmarkArguments(given);
  }

  /**
   * A setting: the argument, else the system property, else the environment variable, else the
   * fallback; blank values count as unset.
   *
   * @param key the argument's key
   * @param property the system property's name
   * @param env the environment variable's name, or {@code null}
   * @param fallback the value when none is set, or {@code null}
   * @return the value, trimmed
   */
  String value(String key, String property, String env, String fallback) {
    List<String> candidates = new ArrayList<>();
    candidates.add(given.get(key));
    candidates.add(System.getProperty(property));
    if (env != null) {
      candidates.add(System.getenv(env));
    }
    for (String candidate : candidates) {
      if (candidate != null && !candidate.isBlank()) {
        return candidate.trim();
      }
    }
    return fallback;
  }

  /** A duration given in (possibly fractional) seconds. */
  static Duration seconds(String value) {
    return Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
  }

  /** A comma-separated list, lowercased, without empty entries. */
  static List<String> list(String value) {
    return Arrays.stream(value.split(","))
        .map(s -> s.trim().toLowerCase(Locale.ROOT))
        .filter(s -> !s.isEmpty())
        .toList();
  }
}
