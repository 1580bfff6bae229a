package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.Targets;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The extension used the way a harness uses it: a cluster of two smithi for the whole class, a mira
 * client for each test, and a spare smithi for one test. It runs in the normal test suite, on a
 * small lab of its own.
 */
@MachinePoolTest(pool = LabHarnessExampleTest.ExampleLab.class)
class LabHarnessExampleTest {
  private static final String DOMAIN = ".front.sepia.ceph.com";

  /** The lab of this example: three smithi on Ubuntu 22.04 and two mira, in embedded H2. */
  static final class ExampleLab implements PoolProvider {
    @Override
    public MachinePool open(ExtensionContext run) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL("jdbc:h2:mem:example-lab-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      MachinePool pool = MachinePool.builder().dataSource(h2).build();
      pool.inventory()
          .addAll(
              MachineSpec.physical("smithi001" + DOMAIN, "smithi").withOs("ubuntu", "22.04"),
              MachineSpec.physical("smithi002" + DOMAIN, "smithi").withOs("ubuntu", "22.04"),
              MachineSpec.physical("smithi003" + DOMAIN, "smithi").withOs("ubuntu", "22.04"),
              MachineSpec.physical("mira001" + DOMAIN, "mira"),
              MachineSpec.physical("mira002" + DOMAIN, "mira"));
      return pool;
    }
  }

  @LockedMachines(machineType = "smithi", count = 2, os = "ubuntu", osVersion = "22.04")
  static Lease cluster;

  @LockedMachines(machineType = "mira")
  Machine client;

  private static final Set<String> clusterTokens = ConcurrentHashMap.newKeySet();
  private static final Set<String> clientLocks = ConcurrentHashMap.newKeySet();

  @Test
  void theClusterIsTwoSmithiOnUbuntuHeldForTheWholeClass() {
    clusterTokens.add(cluster.token());
    assertThat(cluster.isOpen()).isTrue();
    assertThat(cluster.machines())
        .hasSize(2)
        .allSatisfy(
            m -> {
              assertThat(m.machineType()).isEqualTo("smithi");
              assertThat(m.osVersion()).isEqualTo("22.04");
              assertThat(m.locked()).isTrue();
            });
    assertThat(cluster.description()).isEqualTo("LabHarnessExampleTest");
    assertThat(cluster.owner()).isEqualTo(LockRequest.defaultOwner());
    assertThat(cluster.targets().toYaml()).startsWith("targets:\n");
    recordClient();
  }

  @Test
  void eachTestHasAMiraClientOfItsOwn(TestInfo info) {
    clusterTokens.add(cluster.token());
    assertThat(client.machineType()).isEqualTo("mira");
    assertThat(client.locked()).isTrue();
    assertThat(client.lockedBy()).isEqualTo(LockRequest.defaultOwner());
    assertThat(client.description())
        .isEqualTo("LabHarnessExampleTest#" + info.getTestMethod().orElseThrow().getName());
    recordClient();
  }

  @Test
  void aParameterLocksTheSpareSmithiForOneTest(
      @LockedMachines(machineType = "smithi", waitUpTo = 30) Targets spare) {
    clusterTokens.add(cluster.token());
    assertThat(spare.names()).hasSize(1).doesNotContainAnyElementsOf(cluster.names());
    assertThat(spare.toYaml()).contains(spare.names().get(0));
    recordClient();
  }

  /** A client is a fresh lock in every test: its generation grows. */
  private void recordClient() {
    clientLocks.add(client.name() + " generation " + client.generation());
  }

  @AfterAll
  static void everyTestSawTheSameClusterAndAFreshClient() {
    assertThat(clusterTokens).hasSize(1);
    assertThat(cluster.isOpen()).as("released only after this method").isTrue();
    assertThat(List.copyOf(clientLocks)).hasSize(3);
  }
}
