package io.machinepool.junit5;

import io.machinepool.MachinePool;
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
 *   <li>{@code machine_pool.database_url} of the teuthology config file ({@code
 *       TeuthologyConfig.load()}), <em>only when {@code
 *       io.machinepool:machinepool-teuthology-config} is on the test class path</em>: it is an
 *       optional dependency of this module, so a suite that wants the config file read adds it;
 *       without it this step is skipped, and no YAML parser is needed, else
 *   <li>an embedded H2 database in memory, {@value #IN_MEMORY_URL}, whose inventory starts empty.
 * </ol>
 *
 * <p>The database is reached through {@link java.sql.DriverManager}, with the JDBC driver the suite
 * puts on its test class path (H2 for the in-memory default; this module brings none), and without
 * a connection pool: each unit of work opens a connection and closes it, which suits an embedded H2
 * file that the processes of a host share, and costs a suite on a database server one connection
 * set-up per lock and unlock. A suite that wants a connection pool supplies a {@link PoolProvider}
 * that builds the pool on one.
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
    UrlDataSource dataSource = UrlDataSource.of(url(parameters, TeuthologyConfigFile::databaseUrl));
    MachinePool.Builder builder = MachinePool.builder().dataSource(dataSource);
    value(parameters, TABLE_PREFIX_PROPERTY).ifPresent(builder::tablePrefix);
    return builder.build();
  }

  /** The URL the rules above choose; the config file is read only when no parameter names one. */
  static String url(
      Function<String, Optional<String>> parameters, Supplier<Optional<String>> configFileUrl) {
    return value(parameters, URL_PROPERTY).or(configFileUrl).orElse(IN_MEMORY_URL);
  }

  private static Optional<String> value(Function<String, Optional<String>> parameters, String key) {
    return parameters.apply(key).map(String::strip).filter(v -> !v.isEmpty());
  }
}
