package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;

/**
 * One database the benchmark runs on: its JDBC URL, the SQL that differs between H2, PostgreSQL and
 * MariaDB for the floor's statements, and the connection pools both sides use.
 *
 * <p>The floor's table is created from the DDL that machinepool ships for the same database (every
 * schema version, in order), with another table prefix, so that both sides write to identical
 * tables with identical indexes.
 */
public final class BenchDatabase {
  /** The databases the benchmark knows. */
  public enum Kind {
    /** H2 2.x, embedded. */
    H2("h2", "CURRENT_TIMESTAMP", "DATEADD(MILLISECOND, ?, CURRENT_TIMESTAMP)", ""),
    /** PostgreSQL. */
    POSTGRESQL(
        "postgresql",
        "CURRENT_TIMESTAMP",
        "(CURRENT_TIMESTAMP + CAST(? AS BIGINT) * INTERVAL '1 millisecond')",
        " ORDER BY name"),
    /** MariaDB (or MySQL), whose lock times are DATETIME(3) in UTC. */
    MARIADB(
        "mariadb",
        "UTC_TIMESTAMP(3)",
        "TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3))",
        " ORDER BY name");

    private final String ddl;
    private final String now;
    private final String nowPlusMillis;
    private final String order;

    Kind(String ddl, String now, String nowPlusMillis, String order) {
      this.ddl = ddl;
      this.now = now;
      this.nowPlusMillis = nowPlusMillis;
      this.order = order;
    }

    /**
     * SQL for the database clock now.
     *
     * @return e.g. {@code CURRENT_TIMESTAMP}
     */
    public String now() {
      return now;
    }

    /**
     * SQL for the database clock plus a number of milliseconds bound as one parameter.
     *
     * @return the expression
     */
    public String nowPlusMillis() {
      return nowPlusMillis;
    }

    /**
     * The tail of a SELECT that locks and returns at most {@code ?} free rows, skipping rows that
     * other transactions hold (H2 does not allow ORDER BY with FOR UPDATE).
     *
     * @return the tail
     */
    public String lockFreeRowsTail() {
      return order + " LIMIT ? FOR UPDATE SKIP LOCKED";
    }
  }

  private final String label;
  private final String url;
  private final Kind kind;

  /**
   * Describes a database.
   *
   * @param label its name in the table
   * @param url its JDBC URL
   * @param kind which database it is
   */
  public BenchDatabase(String label, String url, Kind kind) {
    this.label = label;
    this.url = url;
    this.kind = kind;
  }

  /**
   * Its name in the table.
   *
   * @return e.g. {@code postgresql}
   */
  public String label() {
    return label;
  }

  /**
   * Which database it is.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * A connection pool of fixed size, configured the same for both sides of every comparison:
   * HikariCP defaults (auto-commit on, the driver's default isolation unless asked otherwise), only
   * the size set.
   *
   * @param name the pool's name
   * @param size its minimum and maximum number of connections
   * @param readCommitted whether its connections are set to READ COMMITTED when opened
   * @return the pool; close it when done
   */
  public HikariDataSource pool(String name, int size, boolean readCommitted) {
    HikariConfig config = new HikariConfig();
    if (readCommitted) {
      config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    }
    config.setJdbcUrl(url);
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    return new HikariDataSource(config);
  }

  /**
   * The server's product name and version.
   *
   * @param dataSource a pool on it
   * @return e.g. {@code PostgreSQL 15.2}
   * @throws SQLException when the database cannot be reached
   */
  public static String version(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      return meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion();
    }
  }

  /**
   * Creates the tables of machinepool's schema under a prefix, from the DDL machinepool ships for
   * this database.
   *
   * @param dataSource a pool on it
   * @param prefix the table prefix
   * @throws SQLException when a statement fails
   */
  public void createTables(DataSource dataSource, String prefix) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement()) {
      for (String sql : ddl(prefix)) {
        statement.execute(sql);
      }
    }
  }

  /**
   * Drops the tables of machinepool's schema under a prefix, where they exist: first any table of
   * the prefix that the benchmark does not know by name (one a later schema version added), then
   * the host keys, the machines and the schema version.
   *
   * @param dataSource a pool on it
   * @param prefix the table prefix
   * @throws SQLException when a statement fails
   */
  public void dropTables(DataSource dataSource, String prefix) throws SQLException {
    List<String> known = List.of("host_key", "machine", "schema_version");
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement()) {
      for (String table : tablesOf(c, prefix)) {
        if (!known.contains(table.substring(prefix.length()).toLowerCase(Locale.ROOT))) {
          statement.execute("DROP TABLE IF EXISTS " + table);
        }
      }
      for (String table : known) {
        statement.execute("DROP TABLE IF EXISTS " + prefix + table);
      }
    }
  }

  /**
   * Drops the tables of some prefixes, for a shutdown hook of an interrupted run: says on standard
   * error what it dropped or why it could not, and never throws.
   *
   * @param dataSource a pool on it
   * @param prefixes the table prefixes
   */
  public void dropOnInterrupt(DataSource dataSource, String... prefixes) {
    try {
      for (String prefix : prefixes) {
        dropTables(dataSource, prefix);
      }
      System.err.println("benchmark interrupted; dropped its tables on " + label);
    } catch (SQLException | RuntimeException e) {
      System.err.println(
          "benchmark interrupted; could not drop its tables "
              + String.join("*, ", prefixes)
              + "* on "
              + label
              + ": "
              + e);
    }
  }

  /**
   * Switches the database's background housekeeping off for the tables of a prefix, where a table
   * can have it switched off: PostgreSQL's autovacuum, and with it auto-analyze ({@code
   * autovacuum_enabled = false}), so that a run does not depend on the server's setting. MariaDB's
   * purge and H2's chunk rewriting cannot be switched off per table, and are left alone.
   *
   * @param dataSource a pool on it
   * @param prefix the table prefix
   * @return what was done, in a few words
   * @throws SQLException when a statement fails
   */
  public String housekeepingOff(DataSource dataSource, String prefix) throws SQLException {
    if (kind != Kind.POSTGRESQL) {
      return "no per-table housekeeping to switch off";
    }
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement()) {
      for (String table : tablesOf(c, prefix)) {
        statement.execute("ALTER TABLE " + table + " SET (autovacuum_enabled = false)");
      }
    }
    return "autovacuum off for the tables " + prefix + "*";
  }

  /**
   * Updates the optimizer's statistics of a table, once: {@code ANALYZE} (PostgreSQL), {@code
   * ANALYZE TABLE} (MariaDB, H2).
   *
   * @param dataSource a pool on it
   * @param table the table
   * @throws SQLException when the statement fails
   */
  public void analyze(DataSource dataSource, String table) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement()) {
      statement.execute((kind == Kind.POSTGRESQL ? "ANALYZE " : "ANALYZE TABLE ") + table);
    }
  }

  /**
   * The plan the database chooses for a query, in one line: PostgreSQL's and H2's {@code EXPLAIN}
   * text, MariaDB's access type, key and row estimate per table.
   *
   * @param dataSource a pool on it
   * @param sql the query, with its values written in (no parameters)
   * @return the plan
   * @throws SQLException when the statement fails
   */
  public String plan(DataSource dataSource, String sql) throws SQLException {
    List<String> lines = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement();
        ResultSet rs =
            statement.executeQuery(
                (kind == Kind.POSTGRESQL ? "EXPLAIN (COSTS OFF) " : "EXPLAIN ") + sql)) {
      while (rs.next()) {
        if (kind == Kind.MARIADB) {
          lines.add(
              rs.getString("table")
                  + ": "
                  + rs.getString("type")
                  + " key "
                  + rs.getString("key")
                  + ", rows "
                  + rs.getString("rows")
                  + ", "
                  + rs.getString("Extra"));
        } else {
          lines.add(rs.getString(1).trim());
        }
      }
    }
    return String.join(" / ", lines).replaceAll("\\s+", " ");
  }

  /**
   * A random part for a run's table names, so that two runs on one server never touch each other's
   * tables.
   *
   * @return six characters of {@code [0-9a-z]}
   */
  static String runId() {
    return Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
  }

  /**
   * The tables of the connection's own catalog and schema whose names start with the prefix.
   *
   * @param c a connection
   * @param prefix the table prefix, in any case
   * @return the tables' names as the database spells them
   * @throws SQLException when the metadata cannot be read
   */
  static List<String> tablesOf(Connection c, String prefix) throws SQLException {
    String start = prefix.toLowerCase(Locale.ROOT);
    List<String> tables = new ArrayList<>();
    try (ResultSet rs =
        c.getMetaData().getTables(c.getCatalog(), c.getSchema(), "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        String name = rs.getString("TABLE_NAME");
        if (name.toLowerCase(Locale.ROOT).startsWith(start)) {
          tables.add(name);
        }
      }
    }
    return tables;
  }

  /** The statements of every schema version machinepool ships for this database, in order. */
  private List<String> ddl(String prefix) {
    List<String> statements = new ArrayList<>();
    for (int version = 1; ; version++) {
      String resource = "io/machinepool/schema/" + kind.ddl + "-V" + version + ".sql";
      String text;
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          if (version == 1) {
            throw new IllegalStateException(resource + " is not on the class path");
          }
          return statements;
        }
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      StringBuilder body = new StringBuilder();
      for (String line : text.split("\n")) {
        if (!line.trim().startsWith("--")) {
          body.append(line).append('\n');
        }
      }
      for (String sql : body.toString().replace("${prefix}", prefix).split(";")) {
        if (!sql.isBlank()) {
          statements.add(sql.trim());
        }
      }
    }
  }

  /**
   * The database server a name of {@code --databases} stands for, or {@code null}, after saying on
   * {@code out} that it is skipped and how to name it, when its URL is not set.
   *
   * @param name {@code postgresql} (or {@code postgres}) or {@code mariadb} (or {@code mysql})
   * @param postgresUrl the PostgreSQL server's JDBC URL, or {@code null}
   * @param mariadbUrl the MariaDB server's JDBC URL, or {@code null}
   * @param out where to say it is skipped
   * @return the database, or {@code null}
   * @throws IllegalArgumentException for a name that is no database server the benchmarks know
   */
  static BenchDatabase server(String name, String postgresUrl, String mariadbUrl, PrintStream out) {
    return switch (name) {
      case "postgresql", "postgres" ->
          server("postgresql", postgresUrl, BenchmarkSettings.POSTGRES_ENV, "--postgres=", out);
      case "mariadb", "mysql" ->
          server("mariadb", mariadbUrl, BenchmarkSettings.MARIADB_ENV, "--mariadb=", out);
      default -> throw new IllegalArgumentException("unknown database " + name);
    };
  }

  private static BenchDatabase server(
      String label, String url, String environment, String option, PrintStream out) {
    if (url == null) {
      out.println(label + ": skipped, set " + environment + " or " + option);
      return null;
    }
    return new BenchDatabase(label, url, kindOf(url));
  }

  /**
   * The kind of a JDBC URL.
   *
   * @param url the URL
   * @return its kind
   * @throws IllegalArgumentException for a database the benchmark does not know
   */
  public static Kind kindOf(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    if (lower.startsWith("jdbc:h2:")) {
      return Kind.H2;
    }
    if (lower.startsWith("jdbc:postgresql:")) {
      return Kind.POSTGRESQL;
    }
    if (lower.startsWith("jdbc:mariadb:") || lower.startsWith("jdbc:mysql:")) {
      return Kind.MARIADB;
    }
    throw new IllegalArgumentException(
        "the benchmark knows H2, PostgreSQL and MariaDB, not " + url);
  }
}
