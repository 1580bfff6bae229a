package io.machinepool.testing;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells HikariCP to evict a connection that H2's client reports broken (error 90067), which
 * HikariCP does not recognise by itself (it evicts on SQL state class 08), so that a pool on an H2
 * TCP server recovers once the server answers again.
 */
public final class EvictBrokenH2Connections implements SQLExceptionOverride {
  @java.lang.Override
  public SQLExceptionOverride.Override adjudicate(SQLException e) {
    return e.getErrorCode() == 90067
        ? SQLExceptionOverride.Override.MUST_EVICT
        : SQLExceptionOverride.Override.CONTINUE_EVICT;
  }
}
