package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/** In-memory H2 works when it outlives its connections, and is refused with advice when not. */
class InMemoryH2Test {

  private static JdbcDataSource h2(String url) {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(url);
    return dataSource;
  }

  private static String name() {
    return "mem-" + UUID.randomUUID();
  }

  @Test
  void aNamedDatabaseWithoutCloseDelayIsRefusedWithTheUrlToUseAndNothingIsCreated()
      throws Exception {
    String url = "jdbc:h2:mem:" + name();
    // A connection held open meanwhile keeps the database, so we can look into it afterwards.
    try (Connection watcher = DriverManager.getConnection(url)) {
      assertThatThrownBy(() -> MachinePool.builder().dataSource(h2(url)).build())
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("drops when its last connection closes")
          .hasMessageContaining(url + ";DB_CLOSE_DELAY=-1");
      try (ResultSet tables =
          watcher.getMetaData().getTables(null, null, "MACHINEPOOL%", new String[] {"TABLE"})) {
        assertThat(tables.next()).as("tables created").isFalse();
      }
    }
  }

  @Test
  void aPositiveCloseDelayIsRefusedToo() {
    String url = "jdbc:h2:mem:" + name() + ";DB_CLOSE_DELAY=10";

    assertThatThrownBy(() -> MachinePool.builder().dataSource(h2(url)).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("10 s after its last connection closes");
  }

  @Test
  void anUnnamedDatabaseIsRefusedBecauseEveryConnectionGetsItsOwn() {
    assertThatThrownBy(() -> MachinePool.builder().dataSource(h2("jdbc:h2:mem:")).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("without a name")
        .hasMessageContaining("jdbc:h2:mem:locks;DB_CLOSE_DELAY=-1");
  }

  @Test
  void aDatabaseKeptForTheLifeOfTheJvmKeepsItsLocksBetweenUnitsOfWork() {
    String url = "jdbc:h2:mem:" + name() + ";DB_CLOSE_DELAY=-1";
    try (MachinePool pool = MachinePool.builder().dataSource(h2(url)).build()) {
      pool.inventory().add(MachineSpec.physical("smithi001", "smithi"));
      try (Lease lease =
          pool.lock(
              LockRequest.builder().owner("alice@build7").machineType("smithi").count(1).build())) {
        assertThat(pool.machine("smithi001").orElseThrow().locked()).isTrue();
        assertThat(lease.machines()).hasSize(1);
      }
    }
  }
}
