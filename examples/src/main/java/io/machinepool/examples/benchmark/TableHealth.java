package io.machinepool.examples.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * How a machine table stands after churn, as each database tells it; a figure a database does not
 * have is -1.
 *
 * <ul>
 *   <li><b>PostgreSQL</b>, from {@code pg_stat_user_tables}: rows updated ({@code n_tup_upd}), of
 *       them HOT ({@code n_tup_hot_upd}: no index touched), dead row versions ({@code n_dead_tup});
 *       {@code pg_relation_size} of the table and {@code pg_indexes_size} of its indexes. A backend
 *       sends its table statistics lazily (at most once a second while busy, within about 10 s when
 *       idle, at once when it exits), so read these after closing the connections that wrote, with
 *       {@link #settled}.
 *   <li><b>MariaDB</b>: the InnoDB history list length ({@code information_schema.INNODB_METRICS},
 *       {@code trx_rseg_history_len}: undo logs not yet purged, for the whole server, not only this
 *       table); the pages of the clustered index and of the secondary indexes ({@code
 *       information_schema.TABLES}, {@code DATA_LENGTH} and {@code INDEX_LENGTH}, as of InnoDB's
 *       last statistics update, which the server makes by itself once a tenth of the rows changed);
 *       and the size of the table's tablespace file ({@code INNODB_SYS_TABLESPACES.FILE_SIZE}),
 *       always current.
 *   <li><b>H2</b>: the size of the database file ({@code info.FILE_SIZE}), the whole database's.
 * </ul>
 *
 * @param updates rows updated since the table was made
 * @param hotUpdates of them, heap-only updates
 * @param deadRows dead row versions
 * @param dataBytes size of the table's data (or the file holding it)
 * @param indexBytes size of the table's indexes
 * @param fileBytes size of the file holding the table
 * @param historyLength undo logs waiting for purge
 */
record TableHealth(
    long updates,
    long hotUpdates,
    long deadRows,
    long dataBytes,
    long indexBytes,
    long fileBytes,
    long historyLength) {

  /** How long {@link #settled} waits for the statistics to stop changing, in milliseconds. */
  static final long SETTLE_MILLIS = 15_000;

  /** How long they must stay unchanged, in milliseconds. */
  static final long QUIET_MILLIS = 1_500;

  /**
   * What the figures are on a database, for the output.
   *
   * @param kind the database
   * @return a few words
   */
  static String dataMeaning(BenchDatabase.Kind kind) {
    return switch (kind) {
      case POSTGRESQL -> "pg_relation_size of the machine table, pg_indexes_size of its indexes";
      case MARIADB ->
          "DATA_LENGTH and INDEX_LENGTH of the machine table (information_schema.TABLES, from"
              + " InnoDB's own statistics updates), its tablespace file"
              + " (INNODB_SYS_TABLESPACES.FILE_SIZE), and the server's InnoDB history list"
              + " (trx_rseg_history_len)";
      case H2 -> "the database file (info.FILE_SIZE)";
    };
  }

  /**
   * Every figure the database has, in one line.
   *
   * @return e.g. {@code updates 1000, HOT 0, dead rows 1000, data 888 KiB, index 680 KiB}
   */
  String describe() {
    List<String> parts = new ArrayList<>();
    add(parts, "updates", updates, 1, "");
    add(parts, "HOT", hotUpdates, 1, "");
    add(parts, "dead rows", deadRows, 1, "");
    add(parts, "data", dataBytes, 1024, " KiB");
    add(parts, "index", indexBytes, 1024, " KiB");
    add(parts, "file", fileBytes, 1024, " KiB");
    add(parts, "history length", historyLength, 1, "");
    return String.join(", ", parts);
  }

  private static void add(List<String> parts, String name, long value, long unit, String suffix) {
    if (value >= 0) {
      parts.add(name + " " + Math.round((double) value / unit) + suffix);
    }
  }

  /**
   * Reads the figures once.
   *
   * @param dataSource a pool on the database
   * @param kind which database it is
   * @param table the machine table
   * @return the figures
   * @throws SQLException when they cannot be read
   */
  static TableHealth read(DataSource dataSource, BenchDatabase.Kind kind, String table)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return switch (kind) {
        case POSTGRESQL -> postgres(c, table);
        case MARIADB -> mariadb(c, table);
        case H2 -> h2(c);
      };
    }
  }

  /**
   * Reads the figures until they have stayed the same for {@value #QUIET_MILLIS} ms, at most
   * {@value #SETTLE_MILLIS} ms: PostgreSQL's statistics arrive late, H2 writes its file in the
   * background, and InnoDB updates its statistics in the background.
   *
   * @param dataSource a pool on the database, not one whose connections wrote to the table
   * @param kind which database it is
   * @param table the machine table
   * @return the last figures read
   * @throws SQLException when they cannot be read
   * @throws InterruptedException when interrupted while waiting
   */
  static TableHealth settled(DataSource dataSource, BenchDatabase.Kind kind, String table)
      throws SQLException, InterruptedException {
    TableHealth last = read(dataSource, kind, table);
    long start = System.nanoTime();
    long quietSince = start;
    while ((System.nanoTime() - start) / 1_000_000 < SETTLE_MILLIS) {
      Thread.sleep(250);
      TableHealth now = read(dataSource, kind, table);
      if (!now.sameSizes(last)) {
        quietSince = System.nanoTime();
      } else if ((System.nanoTime() - quietSince) / 1_000_000 >= QUIET_MILLIS) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** Whether every figure but the server-wide history length is the same. */
  private boolean sameSizes(TableHealth other) {
    return updates == other.updates
        && hotUpdates == other.hotUpdates
        && deadRows == other.deadRows
        && dataBytes == other.dataBytes
        && indexBytes == other.indexBytes
        && fileBytes == other.fileBytes;
  }

  private static TableHealth postgres(Connection c, String table) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT n_tup_upd, n_tup_hot_upd, n_dead_tup, pg_relation_size(relid),"
                + " pg_indexes_size(relid) FROM pg_stat_user_tables"
                + " WHERE relname = ? AND schemaname = current_schema()")) {
      select.setString(1, table.toLowerCase(Locale.ROOT));
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("no statistics for " + table);
        }
        return new TableHealth(
            rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), -1, -1);
      }
    }
  }

  private static TableHealth mariadb(Connection c, String table) throws SQLException {
    long history;
    try (PreparedStatement select =
            c.prepareStatement(
                "SELECT `COUNT` FROM information_schema.INNODB_METRICS"
                    + " WHERE NAME = 'trx_rseg_history_len'");
        ResultSet rs = select.executeQuery()) {
      history = rs.next() ? rs.getLong(1) : -1;
    }
    long data = -1;
    long index = -1;
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?")) {
      select.setString(1, table);
      try (ResultSet rs = select.executeQuery()) {
        if (rs.next()) {
          data = rs.getLong(1);
          index = rs.getLong(2);
        }
      }
    }
    long file = -1;
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT FILE_SIZE FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = ?")) {
      select.setString(1, c.getCatalog() + "/" + table);
      try (ResultSet rs = select.executeQuery()) {
        if (rs.next()) {
          file = rs.getLong(1);
        }
      }
    }
    return new TableHealth(-1, -1, -1, data, index, file, history);
  }

  private static TableHealth h2(Connection c) throws SQLException {
    try (PreparedStatement select =
            c.prepareStatement(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                    + " WHERE SETTING_NAME = 'info.FILE_SIZE'");
        ResultSet rs = select.executeQuery()) {
      long file = rs.next() ? Long.parseLong(rs.getString(1)) : -1;
      return new TableHealth(-1, -1, -1, -1, -1, file, -1);
    }
  }
}
