package io.machinepool.junit5;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * A {@link DataSource} for a JDBC URL through {@link DriverManager}, with whatever driver the test
 * suite has on its class path, and no connection pool: each unit of work of the pool opens a
 * connection and closes it. That is what an embedded H2 file shared by the processes of a host
 * needs (the file is open only while a unit of work runs), and for a lock database on a server it
 * costs one connection set-up per lock or unlock, which a test suite does not notice. A suite that
 * wants a pool builds its {@link io.machinepool.MachinePool} on one in a {@link PoolProvider} of
 * its own.
 */
final class UrlDataSource implements DataSource {
  private final String url;
  private final Driver driver;

  private UrlDataSource(String url, Driver driver) {
    this.url = url;
    this.driver = driver;
  }

  /**
   * The data source of a URL, once a driver on the class path accepts it.
   *
   * @throws ExtensionConfigurationException when the URL is no JDBC URL or no driver accepts it
   */
  static UrlDataSource of(String url) {
    if (url == null || !url.startsWith("jdbc:") || url.length() < 8) {
      throw new ExtensionConfigurationException(
          "'"
              + url
              + "' is not a JDBC URL; expected e.g. jdbc:h2:mem:lab;DB_CLOSE_DELAY=-1 or"
              + " jdbc:postgresql://lockdb.example.com/lab?user=teuthology");
    }
    try {
      return new UrlDataSource(url, DriverManager.getDriver(url));
    } catch (SQLException e) {
      throw new ExtensionConfigurationException(
          "no JDBC driver on the class path accepts "
              + withoutQuery(url)
              + "; add your database's driver to the test class path (com.h2database:h2,"
              + " org.postgresql:postgresql or org.mariadb.jdbc:mariadb-java-client, at test"
              + " scope)",
          e);
    }
  }

  /** The URL without its query string, which may carry a password. */
  static String withoutQuery(String url) {
    int query = url.indexOf('?');
    return query < 0 ? url : url.substring(0, query) + "?...";
  }

  @Override
  public Connection getConnection() throws SQLException {
    return DriverManager.getConnection(url);
  }

  @Override
  public Connection getConnection(String user, String password) throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  @Override
  public PrintWriter getLogWriter() {
    return DriverManager.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) {
    DriverManager.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) {
    DriverManager.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() {
    return DriverManager.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return driver.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new SQLException("not a wrapper of " + type.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return type.isInstance(this);
  }

  /** The driver's class and the URL without its query string. */
  @Override
  public String toString() {
    return "UrlDataSource[" + withoutQuery(url) + " through " + driver.getClass().getName() + "]";
  }
}
