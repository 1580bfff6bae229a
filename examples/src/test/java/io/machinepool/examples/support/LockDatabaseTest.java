package io.machinepool.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.SQLExceptionOverride.Override;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachinePoolException;
import io.machinepool.MachineSpec;
import java.nio.file.Path;
import java.sql.SQLException;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lock database as the command-line tool and the JUnit extension open it. */
class LockDatabaseTest {
  private static final String SMITHI = "smithi001.front.sepia.ceph.com";

  @TempDir Path dir;

  private Server server(int port) throws SQLException {
    return Server.createTcpServer(
            "-tcpPort", Integer.toString(port), "-ifNotExists", "-baseDir", dir.toString())
        .start();
  }

  private static void lockAndUnlock(MachinePool pool) {
    pool.lock(LockRequest.builder().owner("alice@build7").names(SMITHI).build()).close();
  }

  @Test
  void connectionsToAnH2ServerThatRestartedAreReplaced() throws Exception {
    Server server = server(0);
    int port = server.getPort();
    try (LockDatabase database =
            LockDatabase.open("jdbc:h2:tcp://127.0.0.1:" + port + "/locks", 2);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(database.dataSource())
                .releaseOnShutdown(false)
                .build()) {
      pool.inventory().add(MachineSpec.physical(SMITHI, "smithi"));
      lockAndUnlock(pool);

      server.stop(); // the pool's idle connection now belongs to a server that is gone
      server = server(port);
      int failures = 0;
      for (int i = 0; i < 20; i++) {
        try {
          lockAndUnlock(pool);
        } catch (MachinePoolException e) {
          failures++;
        }
      }

      assertThat(failures).as("failures on connections from before the restart").isLessThan(3);
      lockAndUnlock(pool);
    } finally {
      server.stop();
    }
  }

  @Test
  void hikariEvictsTheConnectionsH2ReportsBroken() {
    BrokenH2Connections override = new BrokenH2Connections();

    assertThat(override.adjudicate(new SQLException("Connection is broken", "90067", 90067)))
        .isEqualTo(Override.MUST_EVICT);
    assertThat(override.adjudicate(new SQLException("Database is already closed", "90121", 90121)))
        .isEqualTo(Override.MUST_EVICT);
    assertThat(
            override.adjudicate(new SQLException("The database has been closed", "90098", 90098)))
        .isEqualTo(Override.MUST_EVICT);
    assertThat(override.adjudicate(new SQLException("Unique index violated", "23505", 23505)))
        .as("left to HikariCP")
        .isEqualTo(Override.CONTINUE_EVICT);
    assertThat(override.adjudicate(new SQLException("I/O error", "08006", 0)))
        .as("left to HikariCP, which evicts a connection exception")
        .isEqualTo(Override.CONTINUE_EVICT);
  }
}
