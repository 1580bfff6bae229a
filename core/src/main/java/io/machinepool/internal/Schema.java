package io.machinepool.internal;

import io.machinepool.DatabaseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and migrates machinepool's tables. Each version is a DDL resource per dialect ({@code
 * io/machinepool/schema/<dialect>-V<n>.sql}) that ends by recording its version; the resources are
 * what a DBA applies by hand.
 *
 * <p>Safe when several JVMs build a pool on one database at once: the migration runs under a
 * database-wide lock where the database has one (PostgreSQL advisory lock, MariaDB {@code
 * GET_LOCK}); every statement is {@code IF NOT EXISTS}, and a version row that another JVM recorded
 * first is taken as done.
 */
public final class Schema {
  /** The newest schema version this code knows. */
  public static final int CURRENT_VERSION = 5;

  private static final Logger log = LoggerFactory.getLogger(Schema.class);
  private static final int ATTEMPTS = 5;
  private static final int LOCK_WAIT_SECONDS = 60;

  /** Serialises migrations in this JVM on databases without a lock of their own. */
  private static final ReentrantLock IN_PROCESS = new ReentrantLock();

  private final Database database;

  /**
   * Prepares to migrate a database.
   *
   * @param database the database
   */
  public Schema(Database database) {
    this.database = database;
  }

  /**
   * Brings the schema to {@link #CURRENT_VERSION}; does nothing when it is there already.
   *
   * @throws DatabaseException when the schema cannot be created, or is newer than this code
   */
  public void migrate() {
    for (int attempt = 1; ; attempt++) {
      try {
        migrateOnce();
        return;
      } catch (DatabaseException e) {
        // Two JVMs creating the same table at once can collide inside the catalog (PostgreSQL
        // reports a unique violation on pg_type); the next attempt sees the finished table.
        int version = version();
        if (version == CURRENT_VERSION) {
          return;
        }
        if (version > CURRENT_VERSION || attempt >= ATTEMPTS) {
          throw e;
        }
        log.debug("schema creation collided with another process, retrying: {}", e.getMessage());
        Database.Backoff.sleep(
            Database.Backoff.jittered(
                java.time.Duration.ofMillis(50), attempt, java.time.Duration.ofSeconds(1)));
      }
    }
  }

  private void migrateOnce() {
    boolean serialiseHere =
        database.dialect() != Dialect.POSTGRESQL && database.dialect() != Dialect.MARIADB;
    if (!serialiseHere) {
      database.autoCommit(
          "create the machinepool schema", migrationDeadline(), this::migrateLocked);
      return;
    }
    // No database-wide lock here: the pools of this JVM take turns, before they take a connection
    // (H2's embedded engine can stall when several connections run DDL at once).
    try {
      if (!IN_PROCESS.tryLock(LOCK_WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new DatabaseException(
            "timed out after "
                + LOCK_WAIT_SECONDS
                + " s waiting for another pool's schema creation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DatabaseException(
          "interrupted while waiting for another pool's schema creation", e);
    }
    try {
      database.autoCommit(
          "create the machinepool schema", migrationDeadline(), this::migrateLocked);
    } finally {
      IN_PROCESS.unlock();
    }
  }

  /** Long enough to wait for another process's migration under the schema lock, then migrate. */
  private static Deadline migrationDeadline() {
    return Deadline.after(java.time.Duration.ofSeconds(LOCK_WAIT_SECONDS * 2L));
  }

  /**
   * Reads the recorded schema version.
   *
   * @return the version, 0 when no schema exists
   */
  public int version() {
    return database.autoCommit("read the schema version", this::versionOf);
  }

  private Void migrateLocked(Connection connection) throws SQLException {
    lock(connection);
    try {
      int version = versionOf(connection);
      if (version > CURRENT_VERSION) {
        throw new DatabaseException(
            "the machinepool schema in this database is version "
                + version
                + ", newer than this machinepool supports ("
                + CURRENT_VERSION
                + "); upgrade machinepool");
      }
      for (int next = version + 1; next <= CURRENT_VERSION; next++) {
        apply(connection, next);
      }
      return null;
    } finally {
      unlock(connection);
    }
  }

  private void apply(Connection connection, int version) throws SQLException {
    List<String> statements = statements(database.dialect(), version, database.prefix());
    try (Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        boolean recordsVersion = sql.startsWith("INSERT INTO " + database.table("schema_version"));
        try {
          statement.execute(sql);
        } catch (SQLException e) {
          if (recordsVersion && isDuplicateKey(e)) {
            log.debug("schema version {} was recorded by another process", version);
            continue;
          }
          throw e;
        }
      }
    }
    log.info("machinepool schema version {} applied ({})", version, database.dialect());
  }

  private int versionOf(Connection connection) throws SQLException {
    if (!tableExists(connection, database.table("schema_version"))) {
      return 0;
    }
    String sql = "SELECT MAX(version) FROM " + database.table("schema_version");
    try (PreparedStatement select = Database.prepare(connection, sql);
        ResultSet rs = select.executeQuery()) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  private static boolean tableExists(Connection connection, String table) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    for (String candidate :
        List.of(table, table.toUpperCase(Locale.ROOT), table.toLowerCase(Locale.ROOT))) {
      try (ResultSet rs =
          meta.getTables(connection.getCatalog(), null, candidate, new String[] {"TABLE"})) {
        if (rs.next()) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isDuplicateKey(SQLException e) {
    String state = e.getSQLState();
    return state != null && state.startsWith("23");
  }

  private void lock(Connection connection) throws SQLException {
    switch (database.dialect()) {
      case POSTGRESQL -> {
        try (PreparedStatement lock = Database.prepare(connection, "SELECT pg_advisory_lock(?)")) {
          lock.setLong(1, lockKey());
          lock.execute();
        }
      }
      case MARIADB -> {
        try (PreparedStatement lock = Database.prepare(connection, "SELECT GET_LOCK(?, ?)")) {
          lock.setString(1, lockName());
          lock.setInt(2, LOCK_WAIT_SECONDS);
          try (ResultSet rs = lock.executeQuery()) {
            if (!rs.next() || rs.getInt(1) != 1) {
              throw new SQLException(
                  "timed out after " + LOCK_WAIT_SECONDS + " s waiting for the schema lock",
                  "40001");
            }
          }
        }
      }
      default -> {
        // H2 and others: migrate() serialises this JVM's pools; IF NOT EXISTS and the version
        // row's primary key guard against other JVMs.
      }
    }
  }

  private void unlock(Connection connection) throws SQLException {
    switch (database.dialect()) {
      case POSTGRESQL -> {
        try (PreparedStatement unlock =
            Database.prepare(connection, "SELECT pg_advisory_unlock(?)")) {
          unlock.setLong(1, lockKey());
          unlock.execute();
        }
      }
      case MARIADB -> {
        try (PreparedStatement unlock = Database.prepare(connection, "SELECT RELEASE_LOCK(?)")) {
          unlock.setString(1, lockName());
          unlock.execute();
        }
      }
      default -> {
        // nothing was locked
      }
    }
  }

  private long lockKey() {
    return 0x6d61636800000000L ^ lockName().hashCode();
  }

  private String lockName() {
    return "machinepool-schema-" + database.prefix();
  }

  /**
   * The statements of one schema version for a dialect, with the prefix filled in.
   *
   * @param dialect the dialect
   * @param version the version
   * @param prefix the table prefix
   * @return the statements in order
   */
  static List<String> statements(Dialect dialect, int version, String prefix) {
    String resource = "/io/machinepool/schema/" + dialect.resourceName() + "-V" + version + ".sql";
    String text;
    try (InputStream in = Schema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing schema resource " + resource);
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema resource " + resource, e);
    }
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n")) {
      if (line.strip().startsWith("--")) {
        continue;
      }
      current.append(line).append('\n');
      if (line.strip().endsWith(";")) {
        String sql = current.toString().strip();
        statements.add(sql.substring(0, sql.length() - 1).replace("${prefix}", prefix));
        current.setLength(0);
      }
    }
    return statements;
  }
}
