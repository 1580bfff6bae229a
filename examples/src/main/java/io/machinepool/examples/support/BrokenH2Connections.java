package io.machinepool.examples.support;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells HikariCP that a pooled H2 connection is dead. HikariCP evicts a connection whose failure
 * has an SQL state of class {@code 08} (and a few vendors' codes), but H2 reports a lost server
 * with states of its own: 90067 (connection broken), 90098 (database closed) and 90121 (database
 * closed at the server's shutdown). Without this override a pool keeps handing out such connections
 * after an H2 server restarts, and every statement on them fails, for as long as the pool stays
 * busy. Every other failure is left to HikariCP's own rules.
 */
final class BrokenH2Connections implements SQLExceptionOverride {
  /** H2's {@code ErrorCode.CONNECTION_BROKEN_1}. */
  static final int CONNECTION_BROKEN = 90067;

  /** H2's {@code ErrorCode.DATABASE_IS_CLOSED}. */
  static final int DATABASE_IS_CLOSED = 90098;

  /** H2's {@code ErrorCode.DATABASE_CALLED_AT_SHUTDOWN}. */
  static final int DATABASE_CALLED_AT_SHUTDOWN = 90121;

  @java.lang.Override // the simple name is HikariCP's enum here
  public Override adjudicate(SQLException e) {
    return isBroken(e) ? Override.MUST_EVICT : Override.CONTINUE_EVICT;
  }

  /** Whether H2 says that the connection of this failure is gone (by error code and SQL state). */
  static boolean isBroken(SQLException e) {
    int code = e.getErrorCode();
    return (code == CONNECTION_BROKEN
            || code == DATABASE_IS_CLOSED
            || code == DATABASE_CALLED_AT_SHUTDOWN)
        && Integer.toString(code).equals(e.getSQLState());
  }
}
