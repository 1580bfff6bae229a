package io.machinepool.consumercheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.machinepool.Lease;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.junit5.DefaultPoolProvider;
import io.machinepool.junit5.LockedMachines;
import io.machinepool.junit5.MachinePoolTest;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The extension as a team uses it, with nothing but machinepool-junit5 and H2: the default provider
 * finds no URL and no teuthology config module, so it opens the in-memory H2 lab, which this class
 * seeds through the API before anything is locked.
 */
@MachinePoolTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LockThroughTheExtensionTest {
  private static final String SMITHI = "smithi001.front.sepia.ceph.com";
  private static MachinePool observer;

  @BeforeAll
  static void seedTheLab() {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(DefaultPoolProvider.IN_MEMORY_URL);
    observer = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build();
    observer.inventory().addAll(MachineSpec.physical(SMITHI, "smithi"));
  }

  @AfterAll
  static void closeTheObserver() {
    observer.close();
  }

  @Test
  void theTeuthologyConfigModuleIsNotOnTheClassPath() {
    assertThrows(
        ClassNotFoundException.class,
        () -> Class.forName("io.machinepool.config.TeuthologyConfig"),
        "machinepool-junit5 brought machinepool-teuthology-config, which is optional");
  }

  @Test
  @Order(1)
  void aParameterHoldsALockedMachineOfTheLab(
      @LockedMachines(machineType = "smithi", waitUpTo = 0) Lease lease) {
    assertEquals(1, lease.machines().size());
    Machine held = lease.machines().get(0);
    assertEquals(SMITHI, held.name());
    Machine inTheLab = observer.machine(SMITHI).orElseThrow();
    assertTrue(inTheLab.locked(), "the lab has the machine locked");
    assertEquals(
        "LockThroughTheExtensionTest#aParameterHoldsALockedMachineOfTheLab",
        inTheLab.description());
    assertTrue(lease.isOpen());
  }

  @Test
  @Order(2)
  void theMachineIsFreeAgainOutsideALease() {
    assertFalse(
        observer.machine(SMITHI).orElseThrow().locked(),
        "the lease of the test before was released when it ended");
  }
}
