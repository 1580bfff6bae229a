package io.machinepool.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * A real database for a test: embedded H2 always, PostgreSQL and MariaDB when their JDBC URLs are
 * in the environment ({@code MACHINEPOOL_TEST_POSTGRES_URL}, {@code MACHINEPOOL_TEST_MARIADB_URL}).
 * Each instance has its own table prefix, so tests on one server never see each other's tables, and
 * {@link #close()} drops them.
 */
public final class TestDatabase implements AutoCloseable {
  /** Environment variable with the PostgreSQL JDBC URL. */
  public static final String POSTGRES_URL = "MACHINEPOOL_TEST_POSTGRES_URL";

  /** Environment variable with the MariaDB JDBC URL. */
  public static final String MARIADB_URL = "MACHINEPOOL_TEST_MARIADB_URL";

  /** The kinds of database the tests run on. */
  public enum Kind {
    H2(null),
    POSTGRESQL(POSTGRES_URL),
    MARIADB(MARIADB_URL);

    private final String variable;

    Kind(String variable) {
      this.variable = variable;
    }

    /** The JDBC URL, or {@code null} when this database is not configured. */
    public String url() {
      return variable == null ? null : System.getenv(variable);
    }

    /** Whether tests can run on it here. */
    public boolean available() {
      return variable == null || (url() != null && !url().isBlank());
    }

    /** Why the tests on it are skipped. */
    public String skipReason() {
      return name()
          + " contract tests skipped: set "
          + variable
          + " to a JDBC URL (.ci/run does, after starting the server)";
    }
  }

  private final Kind kind;
  private final String prefix;
  private final HikariDataSource dataSource;
  private final String url;

  private TestDatabase(Kind kind, String url, int poolSize) {
    this.kind = kind;
    this.url = url;
    this.prefix = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "_";
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(poolSize);
    config.setConnectionTimeout(10_000);
    config.setPoolName("test-" + kind.name().toLowerCase(Locale.ROOT) + "-" + prefix);
    this.dataSource = new HikariDataSource(config);
  }

  /**
   * Opens a database of a kind, with a fresh table prefix.
   *
   * @param kind the kind; must be {@linkplain Kind#available() available}
   * @return the database
   */
  public static TestDatabase open(Kind kind) {
    return open(kind, 24);
  }

  /**
   * Opens a database of a kind with a connection pool of a given size.
   *
   * @param kind the kind
   * @param poolSize the pool size
   * @return the database
   */
  public static TestDatabase open(Kind kind, int poolSize) {
    String url =
        kind == Kind.H2
            ? "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000"
            : kind.url();
    return new TestDatabase(kind, url, poolSize);
  }

  /**
   * A database of a kind at a given URL (a server this test started, or a proxy in front of one),
   * with a fresh table prefix.
   *
   * @param kind the kind
   * @param url its JDBC URL
   * @return the database
   */
  public static TestDatabase at(Kind kind, String url) {
    return new TestDatabase(kind, url, 8);
  }

  /**
   * A database on an H2 file that several JVMs can open at once (H2's automatic mixed mode).
   *
   * @param file the database file without extension
   * @return the database
   */
  public static TestDatabase sharedH2File(java.nio.file.Path file) {
    return new TestDatabase(Kind.H2, sharedH2Url(file), 24);
  }

  /**
   * The URL of an H2 file that several JVMs can open at once.
   *
   * @param file the database file without extension
   * @return the URL
   */
  public static String sharedH2Url(java.nio.file.Path file) {
    return "jdbc:h2:file:" + file.toAbsolutePath() + ";AUTO_SERVER=TRUE;LOCK_TIMEOUT=10000";
  }

  /** The kind of database. */
  public Kind kind() {
    return kind;
  }

  /** The JDBC URL. */
  public String url() {
    return url;
  }

  /** A pooled data source. */
  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * A new connection pool on the same database, whose connections are all made from now on: for
   * tests that change what a connection picks up when it is made (the JVM's default time zone) or
   * set the session up differently. The caller closes it; closing it drops no table.
   *
   * @param connectionInitSql a statement run on every new connection, or {@code null}
   * @return the new pool
   */
  public HikariDataSource newDataSource(String connectionInitSql) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(4);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(10_000);
    config.setConnectionInitSql(connectionInitSql);
    config.setPoolName(
        "test-" + kind.name().toLowerCase(Locale.ROOT) + "-" + prefix + "-" + UUID.randomUUID());
    return new HikariDataSource(config);
  }

  /** The table prefix this test owns. */
  public String prefix() {
    return prefix;
  }

  /**
   * Runs one SQL statement directly, outside machinepool: for tests that look at or change the rows
   * behind the library's back.
   *
   * @param sql the statement
   * @return the update count
   */
  public int execute(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      return s.executeUpdate(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /**
   * Reads rows directly, each as a list of its column values as strings.
   *
   * @param sql the query
   * @return the rows
   */
  public List<List<String>> query(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<List<String>> rows = new ArrayList<>();
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /**
   * A snapshot of every row of this test's tables, for "nothing changed" assertions.
   *
   * @return the rows of machine, host_key and waiter, in a stable order
   */
  public List<List<String>> snapshot() {
    List<List<String>> rows =
        new ArrayList<>(query("SELECT * FROM " + prefix + "machine ORDER BY name"));
    rows.addAll(query("SELECT * FROM " + prefix + "host_key ORDER BY machine_name, key_type"));
    rows.addAll(query("SELECT * FROM " + prefix + "waiter ORDER BY arrival"));
    return rows;
  }

  /** Drops this test's tables and closes the connection pool. */
  @Override
  public void close() {
    try {
      if (kind != Kind.H2 || url.contains(":file:") || url.contains(":tcp:")) {
        for (String table : List.of("ledger", "waiter", "host_key", "machine", "schema_version")) {
          try {
            execute("DROP TABLE IF EXISTS " + prefix + table);
          } catch (IllegalStateException e) {
            // the test may have removed it itself, or never created it
          }
        }
      }
    } finally {
      dataSource.close();
    }
  }
}
