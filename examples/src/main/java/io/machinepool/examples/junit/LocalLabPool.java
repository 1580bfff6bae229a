package io.machinepool.examples.junit;

import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.examples.simulator.LocalLab;
import io.machinepool.junit5.PoolProvider;
import io.machinepool.ssh.JschHostKeyScanner;
import java.time.Duration;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link PoolProvider} for trying the extension, and VM tests, without a lab: a {@link LocalLab}
 * with two VM hosts and four VM slots ({@code vps}), two physical {@code smithi}, a pool in
 * in-memory H2 with the lab's downburst provisioner and a host key scanner that reaches the VMs on
 * loopback. Its VMs are real SSH servers with fresh host keys on every lock; they are destroyed on
 * unlock, and the lab is closed after the pool at the end of the test run.
 *
 * <pre>{@code
 * @MachinePoolTest(pool = LocalLabPool.class)
 * class VmTest {
 *   @LockedMachines(machineType = "vps", count = 2, os = "ubuntu", osVersion = "24.04")
 *   static Lease vms;
 * }
 * }</pre>
 */
public final class LocalLabPool implements PoolProvider {
  private LocalLab lab;

  /** Creates the provider; the extension creates one per test run. */
  public LocalLabPool() {}

  @Override
  public MachinePool open(ExtensionContext run) {
    lab =
        LocalLab.builder()
            .vmHost("mira001", "vpm011", "vpm012")
            .vmHost("mira002", "vpm021", "vpm022")
            .build();
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:local-lab-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    MachinePool pool =
        MachinePool.builder()
            .dataSource(h2)
            .provisioner(lab.provisioner())
            .hostKeyScanner(JschHostKeyScanner.builder().hostAddress(lab::address).build())
            .sshTimeout(Duration.ofMinutes(1))
            .build();
    pool.inventory().addAll(lab.inventory());
    pool.inventory()
        .addAll(
            MachineSpec.physical("smithi001.front.sepia.ceph.com", "smithi"),
            MachineSpec.physical("smithi002.front.sepia.ceph.com", "smithi"));
    return pool;
  }

  @Override
  public void close() {
    if (lab != null) {
      lab.close();
    }
  }
}
