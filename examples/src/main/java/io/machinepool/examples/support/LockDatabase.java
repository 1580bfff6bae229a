package io.machinepool.examples.support;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.InvalidRequestException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/**
 * A {@link DataSource} for the lock database named by a JDBC URL, as the command-line tool opens
 * it: embedded H2 directly, without a pool, so that the file is open only while a unit of work runs
 * and the processes of the host take turns at it; an H2 server and any other database through a
 * small HikariCP pool, which evicts connections that H2 reports broken ({@link
 * BrokenH2Connections}). Close it when the pool built on it is closed.
 */
public final class LockDatabase implements AutoCloseable {
  /** The lock database used when nothing names one: an H2 file under the user's home. */
  public static final String DEFAULT_FILE = ".machinepool/locks";

  private final String url;
  private final DataSource dataSource;
  private final HikariDataSource pooled;

  private LockDatabase(String url, DataSource dataSource, HikariDataSource pooled) {
    this.url = url;
    this.dataSource = dataSource;
    this.pooled = pooled;
  }

  /**
   * The default lock database: {@value #DEFAULT_FILE} under the user's home, in embedded H2, shared
   * by every process of the user on this host. Each unit of work opens the file and closes it after
   * (H2's default {@code DB_CLOSE_DELAY=0}, and no connection pool), so processes take turns at it:
   * one that finds it in use opens it again a moment later (for at most 30 s, the library's bound).
   * It is not opened in automatic mixed mode ({@code AUTO_SERVER=TRUE}): there the process that
   * opened the file first serves it to the others, and processes that come and go at once spend
   * seconds handing the file over and fail when they cannot. {@code DB_CLOSE_ON_EXIT=FALSE} keeps
   * H2's shutdown hook from closing the database before a pool's hook has released its leases.
   *
   * @return its JDBC URL
   */
  public static String defaultUrl() {
    Path file = Path.of(System.getProperty("user.home"), DEFAULT_FILE);
    return "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE";
  }

  /**
   * Opens the database of a JDBC URL. Nothing is connected yet; the pool built on it connects.
   *
   * @param url a JDBC URL such as {@code jdbc:postgresql://lockdb/lab?user=teuthology}
   * @param maxConnections the most connections held open at once, for servers
   * @return the database
   * @throws InvalidRequestException when the URL is not a JDBC URL
   */
  public static LockDatabase open(String url, int maxConnections) {
    return open(url, maxConnections, Duration.ofSeconds(30));
  }

  /**
   * Opens a lock database, waiting at most {@code connectTimeout} for a connection: a command-line
   * tool wants a refused connection reported in seconds, not after HikariCP's 30.
   *
   * @param url the JDBC URL
   * @param maxConnections the most connections a pooled database keeps
   * @param connectTimeout how long to wait for a connection (at least 250 ms); embedded H2 ignores
   *     it
   * @return the database
   * @throws InvalidRequestException when the URL is not a JDBC URL
   */
  public static LockDatabase open(String url, int maxConnections, Duration connectTimeout) {
    if (url == null || !url.startsWith("jdbc:") || url.length() < 8) {
      throw new InvalidRequestException(
          "'"
              + url
              + "' is not a JDBC URL; expected e.g. jdbc:h2:file:/var/lib/lab/locks or"
              + " jdbc:postgresql://lockdb.example.com/lab?user=teuthology");
    }
    if (isEmbeddedH2(url)) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL(url);
      return new LockDatabase(url, h2, null);
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(maxConnections);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(Math.max(250, connectTimeout.toMillis()));
    config.setPoolName("machinepool-lock-database");
    config.setInitializationFailTimeout(-1); // the pool's build() reports a refused connection
    config.setExceptionOverride(new BrokenH2Connections());
    HikariDataSource hikari = new HikariDataSource(config);
    return new LockDatabase(url, hikari, hikari);
  }

  /** Whether a URL names an H2 database this process opens itself (a file, or memory). */
  static boolean isEmbeddedH2(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    return lower.startsWith("jdbc:h2:")
        && !lower.startsWith("jdbc:h2:tcp:")
        && !lower.startsWith("jdbc:h2:ssl:");
  }

  /** The JDBC URL. */
  public String url() {
    return url;
  }

  /** The data source to build a pool on. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** Closes the connection pool, if there is one. */
  @Override
  public void close() {
    if (pooled != null) {
      pooled.close();
    }
  }

  /** The URL without its query string, which may carry a password. */
  @Override
  public String toString() {
    int query = url.indexOf('?');
    return "LockDatabase[" + (query < 0 ? url : url.substring(0, query) + "?...") + "]";
  }
}
