package io.machinepool.internal;

import io.machinepool.DatabaseException;
import io.machinepool.InvalidRequestException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The caller's {@link DataSource} with machinepool's transaction discipline: one connection per
 * unit of work, given back at once; transactions rolled back on any failure; serialization failures
 * and deadlocks retried a bounded number of times with jittered exponential backoff; every other
 * {@link SQLException} turned into a {@link DatabaseException} that names the SQL state.
 *
 * <p>Every unit of work runs under a {@link Deadline}: the caller's, or the database timeout when
 * the call has none of its own. No retry starts after it, and the connection's network timeout
 * ({@link Connection#setNetworkTimeout}) is set to the time left, so that a statement whose answer
 * never comes (a partition, a stalled server) fails when the deadline passes instead of waiting on
 * the socket. The previous network timeout is restored before the connection is given back.
 */
public final class Database {
  private static final Logger log = LoggerFactory.getLogger(Database.class);
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,29}");

  /** A unit of work on one connection. */
  @FunctionalInterface
  public interface Work<T> {
    /**
     * Does the work.
     *
     * @param connection the connection, in a transaction unless run with {@link #autoCommit}
     * @return the result
     * @throws SQLException on any database failure
     */
    T run(Connection connection) throws SQLException;
  }

  /** Runs {@link Connection#setNetworkTimeout}'s callbacks on the calling thread. */
  private static final java.util.concurrent.Executor DIRECT = Runnable::run;

  /** The bound of a call that has no deadline of its own, unless the pool says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final DataSource dataSource;
  private final Dialect dialect;
  private final String prefix;
  private final int maxAttempts;
  private final Duration baseBackoff;
  private final Duration defaultTimeout;
  private volatile boolean networkTimeouts = true;

  private Database(
      DataSource dataSource,
      Dialect dialect,
      String prefix,
      int maxAttempts,
      Duration backoff,
      Duration defaultTimeout) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.prefix = prefix;
    this.maxAttempts = maxAttempts;
    this.baseBackoff = backoff;
    this.defaultTimeout = defaultTimeout;
  }

  /**
   * The same database with another bound for calls that have no deadline of their own.
   *
   * @param timeout positive
   * @return the database
   */
  public Database withDefaultTimeout(Duration timeout) {
    Database copy = new Database(dataSource, dialect, prefix, maxAttempts, baseBackoff, timeout);
    copy.networkTimeouts = networkTimeouts;
    return copy;
  }

  /**
   * A deadline the database timeout from now, for calls that have none of their own.
   *
   * @return the deadline
   */
  public Deadline defaultDeadline() {
    return Deadline.after(defaultTimeout);
  }

  /**
   * Connects once to detect the dialect.
   *
   * @param dataSource the caller's data source
   * @param prefix the table name prefix
   * @param maxAttempts how often a retryable failure is tried in all, at least 1
   * @return the database
   * @throws DatabaseException when no connection can be made
   */
  public static Database connect(DataSource dataSource, String prefix, int maxAttempts) {
    return connect(dataSource, prefix, maxAttempts, null);
  }

  /**
   * Connects once; uses the given dialect instead of detecting it (tests of the portable fallback).
   *
   * @param dataSource the caller's data source
   * @param prefix the table name prefix
   * @param maxAttempts how often a retryable failure is tried in all, at least 1
   * @param forced the dialect to use, or {@code null} to detect it
   * @return the database
   * @throws DatabaseException when no connection can be made
   */
  public static Database connect(
      DataSource dataSource, String prefix, int maxAttempts, Dialect forced) {
    if (!PREFIX.matcher(prefix).matches()) {
      throw new InvalidRequestException(
          "table prefix '"
              + prefix
              + "' must start with a letter and have at most 30 letters, digits or underscores");
    }
    // An H2 file that another process holds for a moment: open again, for a bounded time.
    dataSource = H2FileInUse.retrying(dataSource);
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = forced != null ? forced : Dialect.of(connection);
      log.debug("lock database is {} ({})", dialect, connection.getMetaData().getURL());
      if (dialect == Dialect.H2) {
        H2InMemory.check(connection);
      }
      Database database =
          new Database(
              dataSource, dialect, prefix, maxAttempts, Duration.ofMillis(5), DEFAULT_TIMEOUT);
      // H2's client does nothing with a network timeout (embedded there is no network; over TCP
      // it has none): skip the calls.
      database.networkTimeouts = dialect != Dialect.H2;
      return database;
    } catch (SQLException e) {
      throw failure("connect to the lock database", e);
    }
  }

  /**
   * Prepares a statement, logging its SQL at DEBUG.
   *
   * @param connection the connection
   * @param sql the statement
   * @return the prepared statement
   * @throws SQLException when the database refuses it
   */
  static java.sql.PreparedStatement prepare(Connection connection, String sql) throws SQLException {
    log.debug("SQL: {}", sql);
    return connection.prepareStatement(sql);
  }

  /** The detected dialect. */
  public Dialect dialect() {
    return dialect;
  }

  /** Returns a table's full name. */
  public String table(String name) {
    return prefix + name;
  }

  /** The table prefix. */
  String prefix() {
    return prefix;
  }

  /**
   * Runs work in one transaction, retrying it when the database reports a serialization failure or
   * deadlock.
   *
   * @param what what the work does, for messages
   * @param work the work
   * @return its result
   * @throws DatabaseException when the database fails or retries are exhausted
   */
  public <T> T inTransaction(String what, Work<T> work) {
    return withRetry(what, defaultDeadline(), work, true);
  }

  /**
   * Runs work in one transaction within a deadline, retrying it when the database reports a
   * serialization failure or deadlock and time is left.
   *
   * @param what what the work does, for messages
   * @param deadline when the work must be done, retries and all
   * @param work the work
   * @return its result
   * @throws DatabaseException when the database fails, retries are exhausted or the deadline passes
   */
  public <T> T inTransaction(String what, Deadline deadline, Work<T> work) {
    return withRetry(what, deadline, work, true);
  }

  /**
   * Runs work in auto-commit mode: each statement commits by itself.
   *
   * @param what what the work does, for messages
   * @param work the work
   * @return its result
   */
  public <T> T autoCommit(String what, Work<T> work) {
    return withRetry(what, defaultDeadline(), work, false);
  }

  /**
   * Runs work in auto-commit mode within a deadline.
   *
   * @param what what the work does, for messages
   * @param deadline when the work must be done, retries and all
   * @param work the work
   * @return its result
   * @throws DatabaseException when the database fails, retries are exhausted or the deadline passes
   */
  public <T> T autoCommit(String what, Deadline deadline, Work<T> work) {
    return withRetry(what, deadline, work, false);
  }

  private <T> T withRetry(String what, Deadline deadline, Work<T> work, boolean transaction) {
    SQLException last = null;
    for (int attempt = 1; ; attempt++) {
      if (deadline.passed()) {
        if (last != null) {
          throw failure(what, last);
        }
        throw new DatabaseException(
            "could not " + what + ": its deadline passed before the database answered");
      }
      try {
        return once(work, transaction, deadline);
      } catch (SQLException e) {
        last = e;
        Duration pause = Backoff.jittered(baseBackoff, attempt, Duration.ofMillis(500));
        if (attempt >= maxAttempts || !dialect.isRetryable(e) || deadline.wouldPass(pause)) {
          throw failure(what, e);
        }
        log.debug(
            "{}: retryable failure (attempt {}/{}): {}", what, attempt, maxAttempts, e.toString());
        Backoff.sleep(pause);
      }
    }
  }

  private <T> T once(Work<T> work, boolean transaction, Deadline deadline) throws SQLException {
    try (Connection connection = connect(deadline)) {
      boolean autoCommit = connection.getAutoCommit();
      int networkTimeout = boundNetwork(connection, deadline);
      try {
        if (autoCommit == transaction) {
          connection.setAutoCommit(!transaction);
        }
        T result = work.run(connection);
        if (transaction) {
          connection.commit();
        }
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        if (transaction && !dialect.isConnectionFailure(e)) {
          rollbackQuietly(connection, e);
        }
        throw e;
      } finally {
        restore(connection, autoCommit, networkTimeout);
      }
    }
  }

  /** Gets a connection; an H2 file held by another process is retried until the deadline. */
  private Connection connect(Deadline deadline) throws SQLException {
    H2FileInUse.CALLER.set(deadline);
    try {
      return dataSource.getConnection();
    } finally {
      H2FileInUse.CALLER.remove();
    }
  }

  /**
   * Sets the connection's network timeout to the time left before the deadline.
   *
   * @return the previous timeout, to restore; -1 when the driver has none
   */
  private int boundNetwork(Connection connection, Deadline deadline) throws SQLException {
    if (!networkTimeouts) {
      return -1;
    }
    try {
      int previous = connection.getNetworkTimeout();
      connection.setNetworkTimeout(DIRECT, deadline.remainingMillisForTimeout());
      return previous;
    } catch (java.sql.SQLFeatureNotSupportedException | UnsupportedOperationException e) {
      log.debug("the JDBC driver has no network timeout: {}", e.toString());
      networkTimeouts = false;
      return -1;
    }
  }

  /**
   * Whether a failure means that the connection to the database was lost or timed out, so that the
   * outcome of a statement that was sent is unknown.
   *
   * @param e a failure of this database's work
   * @return {@code true} for a lost connection
   */
  public boolean isConnectionFailure(Throwable e) {
    return dialect.isConnectionFailure(e);
  }

  private static void rollbackQuietly(Connection connection, Throwable failure) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  private static void restore(Connection connection, boolean autoCommit, int networkTimeout) {
    try {
      if (connection.isClosed()) {
        return;
      }
      if (connection.getAutoCommit() != autoCommit) {
        connection.setAutoCommit(autoCommit);
      }
      if (networkTimeout >= 0) {
        connection.setNetworkTimeout(DIRECT, networkTimeout);
      }
    } catch (SQLException e) {
      log.debug("could not restore connection settings: {}", e.toString());
    }
  }

  /** Turns an SQL failure into the exception callers see. */
  static DatabaseException failure(String what, SQLException e) {
    String state = e.getSQLState();
    String hint =
        state != null && state.startsWith("08") && !(e instanceof H2FileInUse.StillInUse)
            ? "; the lock database cannot be reached: check that it is running and that the JDBC"
                + " URL, user and password are right"
            : "";
    return new DatabaseException(
        "could not "
            + what
            + ": "
            // Some servers echo the statement or the value: the whole text stays in the cause.
            + Texts.abbreviate(String.valueOf(e.getMessage()), 1000)
            + " (SQL state "
            + state
            + ", error code "
            + e.getErrorCode()
            + ")"
            + hint,
        e);
  }

  /** Jittered exponential backoff, shared by every bounded retry loop. */
  public static final class Backoff {
    private Backoff() {}

    /**
     * Full jitter: a random pause between half and all of {@code base * 2^(attempt-1)}, capped.
     *
     * @param base the first pause
     * @param attempt the attempt that just failed, from 1
     * @param cap the longest pause
     * @return the pause
     */
    public static Duration jittered(Duration base, int attempt, Duration cap) {
      long ceiling = base.toNanos() << Math.min(attempt - 1, 20);
      ceiling = Math.min(ceiling, cap.toNanos());
      long nanos = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
      return Duration.ofNanos(nanos);
    }

    /**
     * Sleeps, keeping the interrupt flag.
     *
     * @param pause how long
     * @throws io.machinepool.MachinePoolException when interrupted; the interrupt flag is set again
     */
    public static void sleep(Duration pause) {
      try {
        Thread.sleep(pause.toMillis(), (int) (pause.toNanos() % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new io.machinepool.MachinePoolException("interrupted while waiting to retry", e);
      }
    }
  }
}
