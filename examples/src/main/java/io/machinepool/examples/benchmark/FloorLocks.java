package io.machinepool.examples.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The floor: the least a program must send to the database to lock and unlock a machine with one
 * conditional write each, on a table identical to machinepool's. Same columns written as
 * machinepool writes (owner, time, description, token, expiry, generation), prepared statements,
 * auto-commit except for lock-many. No result is read back beyond the update count and, for
 * lock-many, the names picked.
 *
 * <p>Two kinds of floor: <b>pooled</b> borrows a pooled connection and prepares its statement anew
 * for every statement or transaction, as machinepool does; <b>held</b> has each thread borrow one
 * connection and keep it, with every statement prepared once on it, as a bare loop with a
 * connection of its own does. The statements sent are the same.
 */
public final class FloorLocks {
  private static final String OWNER = "bench@floor";
  private static final long LEASE_MILLIS = 600_000;

  private final DataSource dataSource;
  private final boolean held;
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
   * @param held whether each thread holds one connection and its prepared statements ({@link
   *     #session()}), rather than borrowing a connection per statement or transaction
   */
  public FloorLocks(
      DataSource dataSource,
      BenchDatabase.Kind kind,
      String table,
      String hostKeyTable,
      int many,
      boolean held) {
    this.dataSource = dataSource;
    this.held = held;
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
   * A floor thread's own access to the database: call its operations from one thread only, and
   * close it when that thread is done.
   *
   * @return a pooled session (a connection borrowed per statement or transaction) or, when the
   *     floor holds its connections, a session that borrows one connection on first use and keeps
   *     it, with every statement prepared once on it, until closed
   */
  public Session session() {
    return held ? new HeldSession() : new PooledSession();
  }

  /**
   * One thread's connections and statements, and the floor's operations on them. The operations
   * send the same statements whatever the session; only where the connection and the prepared
   * statements come from differs.
   */
  public abstract class Session implements AutoCloseable {
    private Session() {}

    /** The connection for one statement or transaction. */
    abstract Connection connection() throws SQLException;

    /** Done with the connection of one statement or transaction. */
    abstract void done(Connection connection) throws SQLException;

    /** A prepared statement on the connection. */
    abstract PreparedStatement statement(Connection connection, String sql) throws SQLException;

    /** Done with a statement. */
    abstract void done(PreparedStatement statement) throws SQLException;

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
      Connection c = connection();
      try {
        PreparedStatement select = statement(c, readOne);
        try {
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
        } finally {
          done(select);
        }
      } finally {
        done(c);
      }
      unlockOne(name, token);
    }

    private void lockOne(String name, String token) throws SQLException {
      Connection c = connection();
      try {
        PreparedStatement update = statement(c, lockOne);
        try {
          int i = bindLock(update, token);
          update.setString(i, name);
          if (update.executeUpdate() != 1) {
            throw new IllegalStateException(name + " was not free");
          }
        } finally {
          done(update);
        }
      } finally {
        done(c);
      }
    }

    private void unlockOne(String name, String token) throws SQLException {
      Connection c = connection();
      try {
        PreparedStatement update = statement(c, unlockOne);
        try {
          update.setString(1, name);
          update.setString(2, token);
          if (update.executeUpdate() != 1) {
            throw new IllegalStateException(name + " was not unlocked");
          }
        } finally {
          done(update);
        }
      } finally {
        done(c);
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
      unlockMany(lockMany(machineType, count, token), token);
    }

    /**
     * Locks {@code many} free machines of a type in one transaction: SELECT ... FOR UPDATE SKIP
     * LOCKED, then one conditional UPDATE of the names found.
     *
     * @param machineType the type
     * @param count how many, as given to the constructor
     * @param token a token unique to this lock
     * @return the names locked
     * @throws SQLException on a database failure
     * @throws IllegalStateException when too few machines were free; nothing is locked then
     */
    public List<String> lockMany(String machineType, int count, String token) throws SQLException {
      List<String> names = new ArrayList<>(count);
      Connection c = connection();
      try {
        c.setAutoCommit(false);
        try {
          PreparedStatement select = statement(c, pick);
          try {
            select.setString(1, machineType);
            select.setInt(2, count);
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                names.add(rs.getString(1));
              }
            }
          } finally {
            done(select);
          }
          if (names.size() < count) {
            c.rollback();
            throw new IllegalStateException("only " + names.size() + " " + machineType + " free");
          }
          PreparedStatement update = statement(c, lockMany);
          try {
            int i = bindLock(update, token);
            for (String name : names) {
              update.setString(i++, name);
            }
            if (update.executeUpdate() != count) {
              c.rollback();
              throw new IllegalStateException("a concurrent change took " + machineType + " rows");
            }
          } finally {
            done(update);
          }
          c.commit();
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
      } finally {
        done(c);
      }
      return names;
    }

    /**
     * Unlocks what {@link #lockMany} locked, with one UPDATE in auto-commit.
     *
     * @param names the names it returned
     * @param token the token it was given
     * @throws SQLException on a database failure
     * @throws IllegalStateException when not every machine was unlocked
     */
    public void unlockMany(List<String> names, String token) throws SQLException {
      Connection c = connection();
      try {
        PreparedStatement update = statement(c, unlockMany);
        try {
          update.setString(1, token);
          int i = 2;
          for (String name : names) {
            update.setString(i++, name);
          }
          if (update.executeUpdate() != names.size()) {
            throw new IllegalStateException(names + " were not unlocked");
          }
        } finally {
          done(update);
        }
      } finally {
        done(c);
      }
    }

    /**
     * Gives back what the session holds.
     *
     * @throws SQLException when the connection cannot be closed
     */
    @Override
    public void close() throws SQLException {}
  }

  /** A connection borrowed from the pool per statement or transaction, statements prepared anew. */
  private final class PooledSession extends Session {
    @Override
    Connection connection() throws SQLException {
      return dataSource.getConnection();
    }

    @Override
    void done(Connection connection) throws SQLException {
      connection.close();
    }

    @Override
    PreparedStatement statement(Connection connection, String sql) throws SQLException {
      return connection.prepareStatement(sql);
    }

    @Override
    void done(PreparedStatement statement) throws SQLException {
      statement.close();
    }
  }

  /**
   * One connection borrowed on first use and held until closed, each statement prepared once on it:
   * the least a client can do per lock, what a bare loop with a connection of its own does.
   */
  private final class HeldSession extends Session {
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private Connection connection;

    @Override
    Connection connection() throws SQLException {
      if (connection == null) {
        connection = dataSource.getConnection();
      }
      return connection;
    }

    @Override
    void done(Connection c) {
      // held until the session is closed
    }

    @Override
    PreparedStatement statement(Connection c, String sql) throws SQLException {
      PreparedStatement statement = statements.get(sql);
      if (statement == null) {
        statement = c.prepareStatement(sql);
        statements.put(sql, statement);
      }
      return statement;
    }

    @Override
    void done(PreparedStatement statement) {
      // prepared once, kept with the connection
    }

    @Override
    public void close() throws SQLException {
      statements.clear();
      if (connection != null) {
        Connection c = connection;
        connection = null;
        c.close(); // closes its statements too
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
