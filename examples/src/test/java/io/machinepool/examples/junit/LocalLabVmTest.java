package io.machinepool.examples.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.Machine;
import io.machinepool.junit5.LockedMachines;
import io.machinepool.junit5.MachinePoolTest;
import io.machinepool.ssh.JschHostKeyScanner;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The extension handing out VM slots of the lab simulator: a class-wide lease of two VMs with an
 * OS, and a VM per test. Each VM was re-imaged for its lease: it answers on SSH with exactly the
 * host keys the lease carries.
 */
@MachinePoolTest(pool = LocalLabPool.class)
@Timeout(120)
class LocalLabVmTest {
  private static final JschHostKeyScanner SCANNER =
      JschHostKeyScanner.builder().hostAddress(name -> "127.0.0.1").build();
  private static final Set<HostKey> perTestKeys = ConcurrentHashMap.newKeySet();

  @LockedMachines(machineType = "vps", count = 2, os = "ubuntu", osVersion = "22.04")
  static Lease vms;

  @LockedMachines(machineType = "vps")
  Machine scratch;

  @Test
  void theClassWideVmsRunTheRequestedOsAndPresentTheKeysOfTheLease() {
    assertThat(vms.machines())
        .hasSize(2)
        .allSatisfy(
            vm -> {
              assertThat(vm.isVirtual()).isTrue();
              assertThat(vm.osType() + " " + vm.osVersion()).isEqualTo("ubuntu 22.04");
              assertThat(vm.hostKeys()).extracting(HostKey::type).contains("ssh-ed25519");
              assertThat(presented(vm)).containsExactlyInAnyOrderElementsOf(vm.hostKeys());
            });
    assertThat(vms.targets().hostKeys().values()).doesNotContainNull();
    record(scratch);
  }

  @Test
  void eachTestGetsAVmOfItsOwnReimagedForIt() {
    assertThat(vms.names()).doesNotContain(scratch.name());
    assertThat(presented(scratch)).containsExactlyInAnyOrderElementsOf(scratch.hostKeys());
    record(scratch);
  }

  private static void record(Machine vm) {
    perTestKeys.add(vm.preferredHostKey().orElseThrow());
  }

  private static List<HostKey> presented(Machine vm) {
    return SCANNER.scan(vm.name(), vm.sshPort(), Duration.ofSeconds(20));
  }

  @AfterAll
  static void theTwoPerTestVmsHadDifferentKeys() {
    assertThat(perTestKeys).hasSize(2);
  }
}
