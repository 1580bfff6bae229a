package io.machinepool.internal;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Reads machine rows, each joined with its host keys, into {@link Machine} records, and writes the
 * {@code IN (?, ?, ...)} lists the statements use.
 */
final class MachineRows {
  /** The select list of a machine joined with its keys, aliased {@code m} and {@code k}. */
  static final String COLUMNS =
      "m.name, m.machine_type, m.vpshost, m.up, m.locked, m.locked_by, m.locked_since,"
          + " m.description, m.os_type, m.os_version, m.arch, m.mac_address, m.ssh_port,"
          + " m.lease_token, m.lease_expires, m.generation, k.key_type, k.key_base64";

  private MachineRows() {}

  /** {@code FROM machine m LEFT JOIN host_key k}. */
  static String from(Database database) {
    return " FROM "
        + database.table("machine")
        + " m LEFT JOIN "
        + database.table("host_key")
        + " k ON k.machine_name = m.name";
  }

  /** {@code SELECT} of machines joined with their keys, ordered as {@link #read} needs. */
  static String select(Database database, String where) {
    return "SELECT "
        + COLUMNS
        + from(database)
        + " WHERE "
        + where
        + " ORDER BY m.name, k.key_type";
  }

  /** One machine row as read, with the lease fields the public record does not carry. */
  record Row(Machine machine, String leaseToken, Instant leaseExpires) {}

  /**
   * Reads every row, folding the key rows of one machine into one record. The result set must be
   * ordered by machine name.
   */
  static List<Row> read(ResultSet rs, Dialect dialect) throws SQLException {
    List<Row> rows = new ArrayList<>();
    String current = null;
    Row base = null;
    List<HostKey> keys = new ArrayList<>();
    while (rs.next()) {
      String name = rs.getString("name");
      if (!name.equals(current)) {
        if (base != null) {
          rows.add(withKeys(base, keys));
        }
        current = name;
        base = row(rs, dialect);
        keys = new ArrayList<>();
      }
      String type = rs.getString("key_type");
      if (type != null) {
        keys.add(new HostKey(type, rs.getString("key_base64")));
      }
    }
    if (base != null) {
      rows.add(withKeys(base, keys));
    }
    return rows;
  }

  /** Reads the rows and keeps only the machines. */
  static List<Machine> machines(ResultSet rs, Dialect dialect) throws SQLException {
    return read(rs, dialect).stream().map(Row::machine).toList();
  }

  private static Row withKeys(Row row, List<HostKey> keys) {
    return keys.isEmpty()
        ? row
        : new Row(row.machine().withHostKeys(keys), row.leaseToken(), row.leaseExpires());
  }

  private static Row row(ResultSet rs, Dialect dialect) throws SQLException {
    int port = rs.getInt("ssh_port");
    Integer sshPort = rs.wasNull() ? null : port;
    Machine machine =
        new Machine(
            rs.getString("name"),
            rs.getString("machine_type"),
            rs.getString("vpshost"),
            rs.getBoolean("up"),
            rs.getBoolean("locked"),
            rs.getString("locked_by"),
            dialect.instant(rs, "locked_since"),
            rs.getString("description"),
            rs.getString("os_type"),
            rs.getString("os_version"),
            rs.getString("arch"),
            rs.getString("mac_address"),
            List.of(),
            sshPort,
            rs.getLong("generation"));
    return new Row(machine, rs.getString("lease_token"), dialect.instant(rs, "lease_expires"));
  }

  /** {@code (?, ?, ?)} with one marker per value. */
  static String markers(int count) {
    StringBuilder sql = new StringBuilder("(");
    for (int i = 0; i < count; i++) {
      sql.append(i == 0 ? "?" : ", ?");
    }
    return sql.append(')').toString();
  }

  /** Binds strings from a parameter index on; returns the next index. */
  static int bind(PreparedStatement statement, int from, Collection<String> values)
      throws SQLException {
    int index = from;
    for (String value : values) {
      statement.setString(index++, value);
    }
    return index;
  }
}
