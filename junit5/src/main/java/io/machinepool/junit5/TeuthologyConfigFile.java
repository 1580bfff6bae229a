package io.machinepool.junit5;

import io.machinepool.config.TeuthologyConfig;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code machine_pool.database_url} of the teuthology config file, when the module that reads it,
 * {@code machinepool-teuthology-config}, is on the class path. It is an optional dependency of this
 * module: a suite without it gets {@link Optional#empty()} and no YAML parser.
 */
final class TeuthologyConfigFile {
  /** The class whose presence decides; named as text, so that nothing here needs it to load. */
  static final String CONFIG_CLASS = "io.machinepool.config.TeuthologyConfig";

  private static final Logger log = LoggerFactory.getLogger(TeuthologyConfigFile.class);

  private TeuthologyConfigFile() {}

  /**
   * The config file's database URL, if the config module is on the class path and the file names
   * one.
   *
   * @return the URL, or empty
   */
  static Optional<String> databaseUrl() {
    return isPresent(CONFIG_CLASS) ? Reader.databaseUrl() : Optional.empty();
  }

  /** Whether a class can be loaded by this module's class loader; the one place that asks. */
  static boolean isPresent(String className) {
    try {
      Class.forName(className, false, TeuthologyConfigFile.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      log.debug(
          "{} is not on the class path ({}); the teuthology config file is not read",
          className,
          e.toString());
      return false;
    }
  }

  /** The only class that refers to the config module; loaded only once it is known present. */
  private static final class Reader {
    static Optional<String> databaseUrl() {
      return TeuthologyConfig.load().databaseUrl();
    }
  }
}
