package io.machinepool.examples.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The floor: the least a program must send to the database to lock and unlock a machine with one
 * conditional write each, on a table identical to machinepool's. Same columns written as
 * machinepool writes (owner, time, description, token, expiry, generation), prepared statements,
 * one pooled connection borrowed per statement or transaction, auto-commit except for lock-many. No
 * result is read back beyond the update count and, for lock-many, the names picked.
 */
public final class FloorLocks {
  private static final String OWNER = "bench@floor";
  private static final long LEASE_MILLIS = 600_000;

  private final DataSource dataSource;
  private final String lockOne;
  private final String unlockOne;
  private final String readOne;
  private final String pick;
  private final String lockMany;
  private final String unlockMany;

  /**
   * Prepares the statements for a table.
   *
   * @param dataSource the pool
   * @param kind the database, for its SQL dialect
   * @param table the machine table
   * @param hostKeyTable the host key table
   * @param many how many machines lock-many takes
   */
  public FloorLocks(
      DataSource dataSource, BenchDatabase.Kind kind, String table, String hostKeyTable, int many) {
    this.dataSource = dataSource;
    String set =
        "UPDATE "
            + table
            + " SET locked = TRUE, locked_by = ?, locked_since = "
            + kind.now()
            + ", description = ?, lease_token = ?, lease_expires = "
            + kind.nowPlusMillis()
            + ", generation = generation + 1";
    String unset =
        "UPDATE "
            + table
            + " SET locked = FALSE, locked_by = NULL, locked_since = NULL, lease_token = NULL,"
            + " lease_expires = NULL";
    String in = "(" + "?, ".repeat(many - 1) + "?)";
    this.lockOne = set + " WHERE name = ? AND locked = FALSE";
    this.unlockOne = unset + " WHERE name = ? AND lease_token = ?";
    this.readOne =
        "SELECT m.name, m.machine_type, m.vpshost, m.up, m.locked, m.locked_by, m.locked_since,"
            + " m.description, m.os_type, m.os_version, m.arch, m.mac_address, m.ssh_port,"
            + " m.lease_token, m.lease_expires, m.generation, k.key_type, k.key_base64 FROM "
            + table
            + " m LEFT JOIN "
            + hostKeyTable
            + " k ON k.machine_name = m.name WHERE m.name = ?";
    this.pick =
        "SELECT name FROM "
            + table
            + " WHERE machine_type = ? AND up = TRUE AND locked = FALSE"
            + kind.lockFreeRowsTail();
    this.lockMany = set + " WHERE name IN " + in + " AND locked = FALSE";
    this.unlockMany = unset + " WHERE lease_token = ? AND name IN " + in;
  }

  /**
   * Locks one machine by name with one conditional UPDATE, then unlocks it with its reverse.
   *
   * @param name the machine
   * @param token a token unique to this lock
   * @throws SQLException on a database failure
   * @throws IllegalStateException when the machine was not free or not unlocked
   */
  public void lockUnlock(String name, String token) throws SQLException {
    lockOne(name, token);
    unlockOne(name, token);
  }

  /**
   * Locks one machine by name like {@link #lockUnlock}, then reads what it locked back, as a
   * program must that wants the row it locked on a database without {@code UPDATE ... RETURNING}:
   * one SELECT of the row joined with its host keys, every column read. Then unlocks it.
   *
   * @param name the machine
   * @param token a token unique to this lock
   * @throws SQLException on a database failure
   * @throws IllegalStateException when the machine was not free or not unlocked
   */
  public void lockReadUnlock(String name, String token) throws SQLException {
    lockOne(name, token);
    try (Connection c = dataSource.getConnection();
        PreparedStatement select = c.prepareStatement(readOne)) {
      select.setString(1, name);
      try (ResultSet rs = select.executeQuery()) {
        int columns = rs.getMetaData().getColumnCount();
        int rows = 0;
        while (rs.next()) {
          rows++;
          for (int column = 1; column <= columns; column++) {
            rs.getObject(column);
          }
        }
        if (rows == 0) {
          throw new IllegalStateException(name + " was not found");
        }
      }
    }
    unlockOne(name, token);
  }

  private void lockOne(String name, String token) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement update = c.prepareStatement(lockOne)) {
      int i = bindLock(update, token);
      update.setString(i, name);
      if (update.executeUpdate() != 1) {
        throw new IllegalStateException(name + " was not free");
      }
    }
  }

  private void unlockOne(String name, String token) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement update = c.prepareStatement(unlockOne)) {
      update.setString(1, name);
      update.setString(2, token);
      if (update.executeUpdate() != 1) {
        throw new IllegalStateException(name + " was not unlocked");
      }
    }
  }

  /**
   * Locks {@code many} free machines of a type in one transaction (SELECT ... FOR UPDATE SKIP
   * LOCKED, then one conditional UPDATE of the names found), then unlocks them with one UPDATE.
   *
   * @param machineType the type
   * @param count how many, as given to the constructor
   * @param token a token unique to this lock
   * @throws SQLException on a database failure
   * @throws IllegalStateException when too few machines were free
   */
  public void lockManyUnlock(String machineType, int count, String token) throws SQLException {
    List<String> names = new ArrayList<>(count);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement select = c.prepareStatement(pick)) {
          select.setString(1, machineType);
          select.setInt(2, count);
          try (ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
        }
        if (names.size() < count) {
          c.rollback();
          throw new IllegalStateException("only " + names.size() + " " + machineType + " free");
        }
        try (PreparedStatement update = c.prepareStatement(lockMany)) {
          int i = bindLock(update, token);
          for (String name : names) {
            update.setString(i++, name);
          }
          if (update.executeUpdate() != count) {
            c.rollback();
            throw new IllegalStateException("a concurrent change took " + machineType + " rows");
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement update = c.prepareStatement(unlockMany)) {
      update.setString(1, token);
      int i = 2;
      for (String name : names) {
        update.setString(i++, name);
      }
      if (update.executeUpdate() != count) {
        throw new IllegalStateException(names + " were not unlocked");
      }
    }
  }

  private static int bindLock(PreparedStatement update, String token) throws SQLException {
    update.setString(1, OWNER);
    update.setString(2, null);
    update.setString(3, token);
    update.setLong(4, LEASE_MILLIS);
    return 5;
  }
}
