package io.machinepool.examples.junit;

import io.machinepool.MachinePool;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.examples.support.LockDatabase;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The pool of {@link MachinePoolTest @MachinePoolTest} when it names no other: the lock database of
 * physical machines named by
 *
 * <ol>
 *   <li>the JUnit configuration parameter {@value #URL_PROPERTY} (which JUnit also reads from a
 *       system property of that name and from {@code junit-platform.properties}), else
 *   <li>{@code machine_pool.database_url} of the teuthology config file ({@link
 *       TeuthologyConfig#load()}), else
 *   <li>an embedded H2 database in memory, {@value #IN_MEMORY_URL}, whose inventory starts empty.
 * </ol>
 *
 * <p>The tables are those of the prefix {@value #TABLE_PREFIX_PROPERTY} when set, else the pool's
 * default. The pool has no VM provisioner, so it refuses VM slots; a suite that locks them supplies
 * a {@link PoolProvider} of its own.
 */
public final class DefaultPoolProvider implements PoolProvider {
  /** The configuration parameter or system property naming the lock database by JDBC URL. */
  public static final String URL_PROPERTY = "machinepool.db.url";

  /** The configuration parameter or system property naming the table prefix. */
  public static final String TABLE_PREFIX_PROPERTY = "machinepool.table.prefix";

  /** The lock database when nothing names one. */
  public static final String IN_MEMORY_URL = "jdbc:h2:mem:machinepool;DB_CLOSE_DELAY=-1";

  private static final int MAX_CONNECTIONS = 8;

  private volatile LockDatabase database;

  /** Creates the provider; the extension does, once per test run. */
  public DefaultPoolProvider() {}

  /**
   * Opens the pool on the lock database described above.
   *
   * @param run the root extension context, for its configuration parameters
   * @return the pool
   */
  @Override
  public MachinePool open(ExtensionContext run) {
    Function<String, Optional<String>> parameters = run::getConfigurationParameter;
    LockDatabase opened =
        LockDatabase.open(url(parameters, TeuthologyConfig::load), MAX_CONNECTIONS);
    try {
      MachinePool.Builder builder = MachinePool.builder().dataSource(opened.dataSource());
      value(parameters, TABLE_PREFIX_PROPERTY).ifPresent(builder::tablePrefix);
      MachinePool pool = builder.build();
      database = opened;
      return pool;
    } catch (RuntimeException e) {
      opened.close();
      throw e;
    }
  }

  /** Closes the connection pool of the lock database, if there is one. */
  @Override
  public void close() {
    LockDatabase opened = database;
    if (opened != null) {
      opened.close();
    }
  }

  /** The URL the rules above choose; the config file is read only when no parameter names one. */
  static String url(
      Function<String, Optional<String>> parameters, Supplier<TeuthologyConfig> config) {
    return value(parameters, URL_PROPERTY)
        .or(() -> config.get().databaseUrl())
        .orElse(IN_MEMORY_URL);
  }

  private static Optional<String> value(Function<String, Optional<String>> parameters, String key) {
    return parameters.apply(key).map(String::strip).filter(v -> !v.isEmpty());
  }
}
