package io.machinepool.internal;

import java.io.PrintWriter;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Locale;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * Opening an H2 database that another process holds for a moment. An embedded H2 file is one
 * process's at a time. While one process has it open, another one's open fails at once (error
 * 90020, "Database may be already in use"); in automatic mixed mode ({@code AUTO_SERVER=TRUE}) it
 * also fails while the holder is still starting its server or has just closed the file (error 8000:
 * "Lock file recently modified", "Another process was faster"; 90020: "Locked by another process")
 * or has just exited with the server the others were connecting to (90067, "Connection is broken").
 * Processes that each use the file briefly (runs of a command-line tool, JVMs without a connection
 * pool) meet these errors all the time, although the file is free again a moment later.
 *
 * <p>A data source {@linkplain #retrying wrapped} here tries such an open again with jittered
 * backoff for at most {@link #WAIT}, then fails with a {@link StillInUse} that says another process
 * kept the file. Every other failure passes through at once. The errors are told apart by error
 * code and SQL state (and for 8000 by having no cause: an 8000 caused by an {@code IOException} is
 * a lock file that cannot be written, which waiting does not mend), never by message; no other
 * database reports these codes with these states. Only the data source's own failure is looked at:
 * a connection pool that wraps it has already waited by its own rules.
 */
final class H2FileInUse implements DataSource {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(H2FileInUse.class);

  /** The longest time an open is tried again while another process holds the file. */
  static final Duration WAIT = Duration.ofSeconds(30);

  private static final Duration FIRST_PAUSE = Duration.ofMillis(20);
  private static final Duration LONGEST_PAUSE = Duration.ofMillis(400);

  /** H2's {@code ErrorCode.ERROR_OPENING_DATABASE_1}, SQL state 08000. */
  static final int ERROR_OPENING_DATABASE = 8000;

  /** H2's {@code ErrorCode.DATABASE_ALREADY_OPEN_1}, SQL state 90020. */
  static final int DATABASE_ALREADY_OPEN = 90020;

  /** H2's {@code ErrorCode.CONNECTION_BROKEN_1}, SQL state 90067. */
  static final int CONNECTION_BROKEN = 90067;

  private final DataSource delegate;
  private final Duration wait;

  H2FileInUse(DataSource delegate, Duration wait) {
    this.delegate = delegate;
    this.wait = wait;
  }

  /**
   * Wraps a data source so that an open that fails because another process holds the H2 file is
   * tried again for at most {@link #WAIT}.
   *
   * @param dataSource the caller's data source
   * @return the wrapped data source
   */
  static DataSource retrying(DataSource dataSource) {
    return dataSource instanceof H2FileInUse ? dataSource : new H2FileInUse(dataSource, WAIT);
  }

  /**
   * Whether a failed open means only that another process holds the H2 file, or is taking, handing
   * over or serving it, so that trying again a moment later may succeed.
   *
   * @param e the failure of {@code getConnection()}
   * @return whether it is worth another try
   */
  static boolean isTransient(SQLException e) {
    int code = e.getErrorCode();
    String state = e.getSQLState();
    return (code == ERROR_OPENING_DATABASE && "08000".equals(state) && e.getCause() == null)
        || (code == DATABASE_ALREADY_OPEN && "90020".equals(state))
        || (code == CONNECTION_BROKEN && "90067".equals(state));
  }

  @Override
  public Connection getConnection() throws SQLException {
    return open(delegate::getConnection);
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return open(() -> delegate.getConnection(username, password));
  }

  /** One try at opening a connection. */
  @FunctionalInterface
  private interface Opening {
    Connection open() throws SQLException;
  }

  /**
   * The deadline of the unit of work that is getting a connection on this thread, set by {@link
   * Database} around {@code getConnection()}: the retries never outlast it.
   */
  static final ThreadLocal<Deadline> CALLER = new ThreadLocal<>();

  private Connection open(Opening opening) throws SQLException {
    long start = System.nanoTime();
    Deadline caller = CALLER.get();
    long limit =
        caller == null ? wait.toNanos() : Math.min(wait.toNanos(), caller.remainingNanos());
    for (int attempt = 1; ; attempt++) {
      try {
        return opening.open();
      } catch (SQLException e) {
        if (!isTransient(e)) {
          throw e;
        }
        long waited = System.nanoTime() - start;
        long left = limit - waited;
        if (left <= 0) {
          throw new StillInUse(describe(delegate), Duration.ofNanos(waited), e);
        }
        Duration pause = Database.Backoff.jittered(FIRST_PAUSE, attempt, LONGEST_PAUSE);
        log.debug(
            "H2 database held by another process, opening again (attempt {}, {} ms so far): {}",
            attempt,
            waited / 1_000_000,
            e.toString());
        Database.Backoff.sleep(pause.toNanos() < left ? pause : Duration.ofNanos(left));
      }
    }
  }

  /**
   * An open that still failed after {@link #WAIT}: says which file another process kept, for how
   * long it was tried, and what H2 answered last (its cause, whose SQL state and error code it
   * keeps).
   */
  static final class StillInUse extends SQLException {
    private static final long serialVersionUID = 1L;

    StillInUse(String database, Duration waited, SQLException last) {
      super(message(database, waited, last), last.getSQLState(), last.getErrorCode(), last);
    }

    private static String message(String database, Duration waited, SQLException last) {
      long seconds = Math.max(1, Math.round(waited.toMillis() / 1000.0));
      String what =
          last.getErrorCode() == CONNECTION_BROKEN
              ? "the process serving " + database + " went away and none took over"
              : "another process has " + database + " open and did not let go";
      return what
          + " within "
          + seconds
          + " s (H2: "
          + last.getMessage()
          + "). An H2 file serves the processes of one host, which take turns; to share the"
          + " locks among hosts, use a PostgreSQL or MariaDB server";
    }
  }

  /**
   * Names the database for a message: its file when the caller's data source tells its URL (H2's
   * {@code JdbcDataSource} has {@code getURL()}, HikariCP's data source {@code getJdbcUrl()}).
   */
  static String describe(DataSource dataSource) {
    for (String getter : new String[] {"getURL", "getJdbcUrl"}) {
      try {
        Object url =
            MethodHandles.publicLookup()
                .findVirtual(dataSource.getClass(), getter, MethodType.methodType(String.class))
                .invoke(dataSource);
        if (url instanceof String s) {
          String file = h2File(s);
          return file != null
              ? "the H2 database file " + file
              : "the H2 database " + s.split("[;?]", 2)[0]; // settings may hold a password
        }
      } catch (Throwable e) {
        // this data source does not tell its URL by that name
      }
    }
    return "the H2 database";
  }

  /**
   * The {@code .mv.db} file of an H2 URL of an embedded file ({@code jdbc:h2:file:~/lab/locks;...}
   * or {@code jdbc:h2:~/lab/locks}), or {@code null} for a database in memory or on a server.
   */
  static String h2File(String url) {
    String prefix = "jdbc:h2:";
    if (!url.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return null;
    }
    String name = url.substring(prefix.length());
    int settings = name.indexOf(';');
    if (settings >= 0) {
      name = name.substring(0, settings);
    }
    if (name.regionMatches(true, 0, "file:", 0, "file:".length())) {
      name = name.substring("file:".length());
    }
    String lower = name.toLowerCase(Locale.ROOT);
    if (name.isEmpty()
        || lower.startsWith("mem:")
        || lower.startsWith("tcp:")
        || lower.startsWith("ssl:")) {
      return null;
    }
    return name + ".mv.db";
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return delegate.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    delegate.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    delegate.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return delegate.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return delegate.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    return type.isInstance(delegate) ? type.cast(delegate) : delegate.unwrap(type);
  }

  @Override
  public boolean isWrapperFor(Class<?> type) throws SQLException {
    return type.isInstance(delegate) || delegate.isWrapperFor(type);
  }
}
