package io.machinepool.internal;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * What differs between the databases machinepool runs on: column types, date arithmetic on the
 * database clock, row locking clauses and which errors are worth retrying. Detected once from the
 * connection's metadata; a portable fallback serves other databases.
 */
public enum Dialect {
  /** H2 2.x, embedded or server. */
  H2("h2", "CURRENT_TIMESTAMP", true, false),
  /** PostgreSQL 12 and later. */
  POSTGRESQL("postgresql", "CURRENT_TIMESTAMP", true, true),
  /**
   * MariaDB 10.6 and later, and MySQL 8. Times are DATETIME(3) in UTC (schema version 3) on the UTC
   * clock, so that neither the session's time zone nor the JVM's, nor 2038, matters.
   */
  MARIADB("mariadb", "UTC_TIMESTAMP(3)", true, true),
  /** Any other database: standard SQL, no row-skipping, plain {@code FOR UPDATE}. */
  GENERIC("generic", "CURRENT_TIMESTAMP", false, true);

  private final String resourceName;
  private final String now;
  private final boolean skipLocked;
  private final boolean orderedLockSelect;

  Dialect(String resourceName, String now, boolean skipLocked, boolean orderedLockSelect) {
    this.resourceName = resourceName;
    this.now = now;
    this.skipLocked = skipLocked;
    this.orderedLockSelect = orderedLockSelect;
  }

  /**
   * Detects the dialect of a connection.
   *
   * @param connection an open connection
   * @return the dialect, {@link #GENERIC} for an unknown product
   * @throws SQLException when the metadata cannot be read
   */
  public static Dialect of(Connection connection) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    String product = meta.getDatabaseProductName().toLowerCase(Locale.ROOT);
    if (product.contains("h2")) {
      return H2;
    }
    if (product.contains("postgres")) {
      return POSTGRESQL;
    }
    if (product.contains("mariadb") || product.contains("mysql")) {
      return MARIADB;
    }
    return GENERIC;
  }

  /** The file name stem of this dialect's DDL resource. */
  String resourceName() {
    return resourceName;
  }

  /** SQL for the database's current time. */
  String now() {
    return now;
  }

  /** SQL for the database's current time plus a number of milliseconds bound as one parameter. */
  String nowPlusMillis() {
    return switch (this) {
      case H2 -> "DATEADD(MILLISECOND, ?, CURRENT_TIMESTAMP)";
      case POSTGRESQL -> "(CURRENT_TIMESTAMP + CAST(? AS BIGINT) * INTERVAL '1 millisecond')";
      case MARIADB -> "TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3))";
      case GENERIC -> "CURRENT_TIMESTAMP + CAST(? AS BIGINT) * INTERVAL '0.001' SECOND";
    };
  }

  /**
   * The tail of a SELECT that locks the free rows it returns, limited to a bound parameter count.
   * H2 does not allow ORDER BY with FOR UPDATE, so its candidates come in primary key order anyway.
   */
  String lockFreeRowsTail() {
    String order = orderedLockSelect ? " ORDER BY name" : "";
    String lock = skipLocked ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE";
    return switch (this) {
      case GENERIC -> order + " FETCH FIRST ? ROWS ONLY" + lock;
      default -> order + " LIMIT ?" + lock;
    };
  }

  /** Whether the dialect skips rows other transactions hold, rather than waiting for them. */
  boolean skipsLockedRows() {
    return skipLocked;
  }

  /** Whether {@link #updateReturning} has a statement for this database. */
  boolean returnsUpdatedRows() {
    return this == H2 || this == POSTGRESQL;
  }

  /**
   * One statement that runs a lock UPDATE and returns the rows it changed joined with their host
   * keys, in the select list of {@link MachineRows#COLUMNS}; {@code null} where the database has
   * none (MariaDB has no UPDATE ... RETURNING), and the rows are read back with a SELECT.
   *
   * @param update the UPDATE
   * @param hostKeyTable the host key table's full name
   * @return the statement, or {@code null}
   */
  String updateReturning(String update, String hostKeyTable) {
    String join = " m LEFT JOIN " + hostKeyTable + " k ON k.machine_name = m.name";
    return switch (this) {
      case H2 -> "SELECT " + MachineRows.COLUMNS + " FROM FINAL TABLE (" + update + ")" + join;
      case POSTGRESQL ->
          "WITH m AS (" + update + " RETURNING *) SELECT " + MachineRows.COLUMNS + " FROM" + join;
      default -> null;
    };
  }

  /**
   * Reads an instant column by position, whatever type the driver maps it to. H2 and PostgreSQL
   * store the offset (TIMESTAMP WITH TIME ZONE); MariaDB's DATETIME holds UTC by convention (schema
   * version 3), read as the driver gives it, without any time zone of the JVM or the session.
   */
  Instant instant(ResultSet rs, int column) throws SQLException {
    return switch (this) {
      case H2, POSTGRESQL -> {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        yield value == null ? null : value.toInstant();
      }
      case MARIADB -> {
        LocalDateTime value = rs.getObject(column, LocalDateTime.class);
        yield value == null ? null : value.toInstant(ZoneOffset.UTC);
      }
      default -> {
        Timestamp value = rs.getTimestamp(column);
        yield value == null ? null : value.toInstant();
      }
    };
  }

  /** Reads an instant column by label, as {@link #instant(ResultSet, int)} does by position. */
  Instant instant(ResultSet rs, String column) throws SQLException {
    return instant(rs, rs.findColumn(column));
  }

  /**
   * Whether a failure means that the connection was lost or timed out, so that the outcome of a
   * statement already sent is unknown: SQL state class 08, the JDBC connection and timeout
   * exception types, a socket that failed or timed out underneath, a server shutting down
   * (PostgreSQL 57P01 to 57P03), and H2's broken connection (90067).
   */
  boolean isConnectionFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLRecoverableException
          || t instanceof java.sql.SQLNonTransientConnectionException
          || t instanceof java.sql.SQLTransientConnectionException
          || t instanceof java.sql.SQLTimeoutException
          || t instanceof java.io.IOException) {
        return true;
      }
      if (t instanceof SQLException sql) {
        String state = sql.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P0"))) {
          return true;
        }
        if (this == H2 && sql.getErrorCode() == 90067) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether a failure is a refusal to wait for a row lock that another transaction holds (the
   * lock-by-name statement bounds its wait): PostgreSQL 55P03 and its query timeout's cancel
   * (57014), MariaDB's lock wait timeout, H2's lock timeout.
   */
  boolean isRowBusy(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        if ("55P03".equals(sql.getSQLState())) {
          return true;
        }
        if (this == POSTGRESQL && "57014".equals(sql.getSQLState())) {
          return true; // canceled by the lock statement's query timeout
        }
        if (this == MARIADB && sql.getErrorCode() == 1205) {
          return true;
        }
        if (this == H2 && sql.getErrorCode() == 50200) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether a failed statement is worth retrying in a new transaction: serialization failures,
   * deadlocks, lock wait timeouts and H2's concurrent update errors.
   */
  boolean isRetryable(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        String state = sql.getSQLState();
        int code = sql.getErrorCode();
        if (state != null && state.startsWith("40")) {
          return true; // 40001 serialization failure, 40P01 deadlock
        }
        if (this == MARIADB && (code == 1213 || code == 1205)) {
          return true; // deadlock found, lock wait timeout exceeded
        }
        if (this == H2 && (code == 50200 || code == 90131 || code == 40001)) {
          return true; // lock timeout, concurrent update in another transaction, deadlock
        }
        if (sql instanceof java.sql.SQLTransactionRollbackException) {
          return true;
        }
      }
    }
    return false;
  }
}
