package io.machinepool.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.h2.tools.Server;

/**
 * A database server reached two ways: directly, and through a {@link FaultProxy} that a test can
 * break. PostgreSQL and MariaDB are the servers of the environment's URLs; for H2, the test starts
 * an H2 TCP server in this JVM with an in-memory database. Both ways share one table prefix.
 */
public final class FaultyDatabase implements AutoCloseable {
  private static final Pattern HOST_PORT =
      Pattern.compile("^(jdbc:[a-z]+://)([^/:?]+)(?::(\\d+))?(/.*)$");

  private final Server h2;
  private final FaultProxy proxy;
  private final TestDatabase direct;
  private final HikariDataSource proxied;

  private FaultyDatabase(Server h2, FaultProxy proxy, TestDatabase direct, String proxiedUrl) {
    this.h2 = h2;
    this.proxy = proxy;
    this.direct = direct;
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(proxiedUrl);
    config.setMaximumPoolSize(4);
    config.setConnectionTimeout(1_000);
    config.setValidationTimeout(250);
    config.setInitializationFailTimeout(-1);
    if (direct.kind() == TestDatabase.Kind.H2) {
      config.setExceptionOverrideClassName(EvictBrokenH2Connections.class.getName());
    }
    config.setPoolName(
        "faulty-" + direct.kind().name().toLowerCase(Locale.ROOT) + "-" + UUID.randomUUID());
    this.proxied = new HikariDataSource(config);
  }

  /**
   * Opens a database of a kind with a proxy in front of it.
   *
   * @param kind the kind; must be {@linkplain TestDatabase.Kind#available() available}
   * @return the database
   */
  public static FaultyDatabase open(TestDatabase.Kind kind) {
    if (kind == TestDatabase.Kind.H2) {
      Server server;
      try {
        server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
      } catch (SQLException e) {
        throw new IllegalStateException("cannot start an H2 TCP server", e);
      }
      String path = "/mem:faults-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
      FaultProxy proxy = FaultProxy.to("127.0.0.1", server.getPort());
      TestDatabase direct =
          TestDatabase.at(kind, "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + path);
      return new FaultyDatabase(
          server, proxy, direct, "jdbc:h2:tcp://127.0.0.1:" + proxy.port() + path);
    }
    String url = kind.url();
    Matcher m = HOST_PORT.matcher(url);
    if (!m.matches()) {
      throw new IllegalStateException("cannot find the host and port in " + url);
    }
    int port =
        m.group(3) != null
            ? Integer.parseInt(m.group(3))
            : kind == TestDatabase.Kind.POSTGRESQL ? 5432 : 3306;
    FaultProxy proxy = FaultProxy.to(m.group(2), port);
    String timeouts =
        kind == TestDatabase.Kind.POSTGRESQL
            ? "loginTimeout=3&connectTimeout=3"
            : "connectTimeout=3000";
    String rest = m.group(4) + (m.group(4).contains("?") ? "&" : "?") + timeouts;
    String proxiedUrl = m.group(1) + "127.0.0.1:" + proxy.port() + rest;
    return new FaultyDatabase(null, proxy, TestDatabase.at(kind, url), proxiedUrl);
  }

  /** The database reached directly. */
  public TestDatabase direct() {
    return direct;
  }

  /** A pooled data source that reaches the database through the proxy. */
  public DataSource proxied() {
    return proxied;
  }

  /** The proxy, to break and heal. */
  public FaultProxy proxy() {
    return proxy;
  }

  /** The table prefix both ways share. */
  public String prefix() {
    return direct.prefix();
  }

  /** Closes the proxied pool and the proxy, drops the tables, and stops the H2 server. */
  @Override
  public void close() {
    proxy.close();
    proxied.close();
    try {
      direct.close();
    } finally {
      if (h2 != null) {
        h2.stop();
      }
    }
  }
}
