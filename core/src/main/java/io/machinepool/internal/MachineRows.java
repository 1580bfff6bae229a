package io.machinepool.internal;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

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

  /**
   * {@code SELECT} of machines joined with their keys. No ORDER BY: {@link #read} sorts. On MariaDB
   * an ORDER BY over both tables of this join makes the server build a temporary table on disk for
   * every read (key_base64 is TEXT), which cost a lock+unlock cycle half its throughput.
   */
  static String select(Database database, String where) {
    return "SELECT " + COLUMNS + from(database) + " WHERE " + where;
  }

  /** One machine row as read, with the lease fields the public {@link Machine} does not carry. */
  record Row(Machine machine, String leaseToken, Instant leaseExpires) {}

  /**
   * Reads every row of a select of {@link #COLUMNS}, in any order, folding the key rows of one
   * machine into one record; machines sorted by name, their keys by type.
   */
  static List<Row> read(ResultSet rs, Dialect dialect) throws SQLException {
    SortedMap<String, Row> bases = new TreeMap<>();
    Map<String, List<HostKey>> keys = new HashMap<>();
    while (rs.next()) {
      String name = rs.getString(1);
      if (!bases.containsKey(name)) {
        bases.put(name, row(rs, dialect));
      }
      String type = rs.getString(17);
      if (type != null) {
        keys.computeIfAbsent(name, n -> new ArrayList<>()).add(new HostKey(type, rs.getString(18)));
      }
    }
    List<Row> rows = new ArrayList<>(bases.size());
    bases.forEach((name, base) -> rows.add(withKeys(base, keys.get(name))));
    return rows;
  }

  /** Reads the rows and keeps only the machines. */
  static List<Machine> machines(ResultSet rs, Dialect dialect) throws SQLException {
    return read(rs, dialect).stream().map(Row::machine).toList();
  }

  private static Row withKeys(Row row, List<HostKey> keys) {
    if (keys == null) {
      return row;
    }
    keys.sort(Comparator.comparing(HostKey::type));
    return new Row(row.machine().withHostKeys(keys), row.leaseToken(), row.leaseExpires());
  }

  private static Row row(ResultSet rs, Dialect dialect) throws SQLException {
    // By position in COLUMNS: H2 looks column labels up slowly (a tenth of a lock's CPU time).
    int port = rs.getInt(13);
    Integer sshPort = rs.wasNull() ? null : port;
    Machine machine =
        ApiValues.factory()
            .machine(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getBoolean(4),
                rs.getBoolean(5),
                rs.getString(6),
                dialect.instant(rs, 7),
                rs.getString(8),
                rs.getString(9),
                rs.getString(10),
                rs.getString(11),
                rs.getString(12),
                List.of(),
                sshPort,
                rs.getLong(16));
    return new Row(machine, rs.getString(14), dialect.instant(rs, 15));
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
