package io.machinepool.internal;

import io.machinepool.ConfigurationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;

/**
 * Refuses an in-memory H2 database that would not outlive its connections. H2 drops a database
 * {@code jdbc:h2:mem:name} when its last connection closes, unless {@code DB_CLOSE_DELAY=-1} keeps
 * it for the life of the JVM; a pool closes its connection after every unit of work, so without
 * that setting every lock would vanish with the connection that wrote it, and the next unit of work
 * would find an empty database. {@code jdbc:h2:mem:} without a name is worse: every connection gets
 * a private database of its own. Both are refused when the pool is built, with the URL to use.
 */
final class H2InMemory {
  private static final String PREFIX = "jdbc:h2:mem:";

  private H2InMemory() {}

  /**
   * Checks the database of a connection to H2.
   *
   * @param connection an open connection to H2
   * @throws ConfigurationException when it is an in-memory database that will not last
   * @throws SQLException when its settings cannot be read
   */
  static void check(Connection connection) throws SQLException {
    String url = connection.getMetaData().getURL();
    if (url == null || !url.toLowerCase(Locale.ROOT).startsWith(PREFIX)) {
      return;
    }
    String name = url.substring(PREFIX.length());
    if (name.isEmpty()) {
      throw new ConfigurationException(
          "jdbc:h2:mem: without a name gives every connection a database of its own, so the"
              + " pool's locks would never be seen again; name it and keep it for the life of the"
              + " JVM, e.g. jdbc:h2:mem:locks;DB_CLOSE_DELAY=-1, or use a file, e.g."
              + " jdbc:h2:file:/var/lib/lab/locks");
    }
    String delay = closeDelay(connection);
    if (!"-1".equals(delay)) {
      throw new ConfigurationException(
          url
              + " is an in-memory H2 database, which H2 drops "
              + (delay == null || "0".equals(delay)
                  ? "when its last connection closes"
                  : delay + " s after its last connection closes")
              + ", locks and all; add ;DB_CLOSE_DELAY=-1 to keep it for the life of the JVM ("
              + url
              + ";DB_CLOSE_DELAY=-1), or use a file database (jdbc:h2:file:...)");
    }
  }

  /** The database's DB_CLOSE_DELAY as H2 reports it, or {@code null} for H2's default of 0. */
  private static String closeDelay(Connection connection) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
      query.setString(1, "DB_CLOSE_DELAY");
      try (ResultSet rs = query.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
