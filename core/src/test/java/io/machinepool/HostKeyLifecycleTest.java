package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.testing.LogCapture;
import io.machinepool.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The host key steps of a lock, in core: a VM is scanned until its SSH server answers, its keys
 * replace the stored ones and travel with the lease, and they are forgotten on unlock; physical
 * machines are scanned only when no key is stored; {@link MachinePool#refreshHostKeys} and {@link
 * MachinePool#targets} scan on demand. The scanner here is a scripted implementation of the SPI;
 * provisioning-ssh tests the JSch scanner against real SSH servers.
 */
@Timeout(60)
class HostKeyLifecycleTest {
  private static final String OWNER = "alice@build7";
  private static final String OTHER = "bob@build9";
  private static final String VM = "vpm011.front.sepia.ceph.com";
  private static final String VM2 = "vpm012.front.sepia.ceph.com";
  private static final String HOST = "mira001.front.sepia.ceph.com";
  private static final String SMITHI = "smithi001.front.sepia.ceph.com";
  private static final HostKey OLD = key("ssh-ed25519", 1);

  @RegisterExtension final LogCapture log = new LogCapture();

  private TestDatabase db;
  private MachinePool pool;
  private final ScriptedScanner scanner = new ScriptedScanner();
  private final List<String> destroyed = new CopyOnWriteArrayList<>();

  @BeforeEach
  void lab() {
    db = TestDatabase.open(TestDatabase.Kind.H2);
    pool = pool(b -> b);
    pool.inventory()
        .addAll(
            MachineSpec.physical(HOST, "mira"),
            MachineSpec.physical(SMITHI, "smithi"),
            MachineSpec.vm(VM, "vps", HOST).withSshPort(2211),
            MachineSpec.vm(VM2, "vps", HOST));
  }

  @AfterEach
  void close() {
    pool.close();
    db.close();
  }

  private MachinePool pool(UnaryOperator<MachinePool.Builder> configure) {
    return configure
        .apply(
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix(db.prefix())
                .releaseOnShutdown(false)
                .provisioner(new RecordingProvisioner())
                .hostKeyScanner(scanner)
                .sshTimeout(Duration.ofSeconds(3)))
        .build();
  }

  @Test
  void aVmIsScannedUntilItsSshServerAnswersAndTheLeaseCarriesItsKeys() {
    HostKey fresh = key("ssh-ed25519", 2);
    scanner.failFirst(VM, 3);
    scanner.answer(VM, fresh);

    try (Lease lease = lock(VM)) {
      assertThat(lease.machines().get(0).hostKeys()).containsExactly(fresh);
      assertThat(lease.targets().hostKeys()).containsEntry(VM, fresh);
      assertThat(pool.hostKeys().keys(VM)).containsExactly(fresh);
    }
    assertThat(scanner.calls(VM)).isEqualTo(4);
    assertThat(scanner.ports(VM)).containsOnly(2211);
  }

  @Test
  void scannedKeysReplaceEveryStoredKeyInOneStep() {
    pool.hostKeys().replace(VM, List.of(OLD, key("ssh-rsa", 3)));
    HostKey fresh = key("ecdsa-sha2-nistp256", 4);
    scanner.answer(VM, fresh);

    try (Lease lease = lock(VM)) {
      assertThat(pool.hostKeys().keys(VM)).containsExactly(fresh);
      assertThat(lease.machines().get(0).hostKeys()).containsExactly(fresh);
    }
  }

  @Test
  void unlockOfAVmForgetsItsKeys() {
    scanner.answer(VM, key("ssh-ed25519", 5));
    lock(VM).close();

    assertThat(pool.hostKeys().keys(VM)).isEmpty();
    assertThat(destroyed).containsExactly(VM);
  }

  @Test
  void aVmThatNeverAnswersFailsTheLockAfterTheSshTimeoutAndIsReleasedAndDestroyed() {
    scanner.failFirst(VM, Integer.MAX_VALUE);

    assertThatThrownBy(() -> lock(VM))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(VM)
        .hasMessageContaining("did not present host keys within 3 s")
        .hasMessageContaining("connection refused");
    assertThat(scanner.calls(VM)).isGreaterThan(1);
    assertThat(pool.machine(VM).orElseThrow().locked()).isFalse();
    assertThat(destroyed).containsExactly(VM);
  }

  @Test
  void aPhysicalMachineWithoutKeysIsScannedOnceAndOneWithKeysIsNot() {
    HostKey fresh = key("ssh-ed25519", 6);
    scanner.answer(SMITHI, fresh);

    try (Lease lease = lock(SMITHI)) {
      assertThat(lease.machines().get(0).hostKeys()).containsExactly(fresh);
    }
    try (Lease again = lock(SMITHI)) {
      assertThat(again.machines().get(0).hostKeys()).containsExactly(fresh);
    }
    assertThat(scanner.calls(SMITHI)).isEqualTo(1);
    assertThat(pool.hostKeys().keys(SMITHI)).containsExactly(fresh);
  }

  @Test
  void aPhysicalMachineThatDoesNotAnswerIsStillLockedWithoutKeys() {
    scanner.failFirst(SMITHI, Integer.MAX_VALUE);

    log.expect("io.machinepool.Provisioning", "is locked without host keys");
    try (Lease lease = lock(SMITHI)) {
      assertThat(lease.machines().get(0).hostKeys()).isEmpty();
    }
    assertThat(log.entries("io.machinepool.Provisioning", SMITHI + " is locked without host keys"))
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("WARN"));
    assertThat(scanner.calls(SMITHI)).isEqualTo(1);
  }

  @Test
  void refreshHostKeysScansTheNamedMachinesAndStoresTheirKeys() {
    pool.hostKeys().replace(SMITHI, List.of(OLD));
    HostKey reinstalled = key("ssh-ed25519", 7);
    scanner.answer(SMITHI, reinstalled);
    scanner.answer(HOST, key("ssh-rsa", 8));

    List<Machine> refreshed = pool.refreshHostKeys(List.of(SMITHI, HOST));

    assertThat(refreshed).extracting(Machine::name).containsExactly(HOST, SMITHI);
    assertThat(refreshed.get(1).hostKeys()).containsExactly(reinstalled);
    assertThat(pool.hostKeys().keys(SMITHI)).containsExactly(reinstalled);
  }

  @Test
  void refreshHostKeysNamesEveryMachineThatDidNotAnswerAndStoresTheOthers() {
    pool.hostKeys().replace(SMITHI, List.of(OLD));
    scanner.failFirst(SMITHI, Integer.MAX_VALUE);
    HostKey fresh = key("ssh-rsa", 9);
    scanner.answer(HOST, fresh);

    assertThatThrownBy(() -> pool.refreshHostKeys(List.of(SMITHI, HOST)))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(SMITHI)
        .satisfies(
            e ->
                assertThat(((ProvisioningException) e).failures())
                    .extracting(ProvisioningException.Failure::machine)
                    .containsExactly(SMITHI));
    assertThat(pool.hostKeys().keys(SMITHI)).containsExactly(OLD);
    assertThat(pool.hostKeys().keys(HOST)).containsExactly(fresh);
  }

  @Test
  void refreshHostKeysOfAnUnknownMachineScansNothing() {
    assertThatThrownBy(() -> pool.refreshHostKeys(List.of(SMITHI, "nosuch001.example.com")))
        .isInstanceOf(NoSuchMachineException.class)
        .hasMessageContaining("nosuch001.example.com");
    assertThat(scanner.calls(SMITHI)).isZero();
  }

  @Test
  void refreshHostKeysNeedsAScanner() {
    try (MachinePool plain =
        MachinePool.builder()
            .dataSource(db.dataSource())
            .tablePrefix(db.prefix())
            .releaseOnShutdown(false)
            .build()) {
      assertThatThrownBy(() -> plain.refreshHostKeys(List.of(SMITHI)))
          .isInstanceOf(InvalidRequestException.class)
          .hasMessageContaining("hostKeyScanner");
    }
  }

  @Test
  void refreshHostKeysRejectsBadNamesBeforeScanning() {
    assertThatThrownBy(() -> pool.refreshHostKeys(List.of("smithi001; rm -rf /")))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> pool.refreshHostKeys(null))
        .isInstanceOf(InvalidRequestException.class);
    assertThat(scanner.totalCalls()).isZero();
  }

  @Test
  void targetsRescanTheVmsTheOwnerHoldsButNotThoseOfOthers() {
    scanner.answer(VM, key("ssh-ed25519", 10));
    scanner.answer(VM2, key("ssh-ed25519", 11));
    try (Lease mine = lock(VM);
        Lease theirs = pool.lock(LockRequest.builder().owner(OTHER).names(VM2).build())) {
      HostKey reimaged = key("ssh-ed25519", 12);
      scanner.answer(VM, reimaged);
      int vm2Scans = scanner.calls(VM2);

      Targets targets = pool.targets(MachineQuery.builder().owner(OWNER).build());

      assertThat(targets.hostKeys()).containsOnlyKeys(VM).containsEntry(VM, reimaged);
      assertThat(scanner.calls(VM2)).isEqualTo(vm2Scans);
      assertThat(mine.isOpen()).isTrue();
      assertThat(theirs.isOpen()).isTrue();
    }
  }

  @Test
  void targetsKeepTheStoredKeyOfAVmThatDoesNotAnswer() {
    HostKey first = key("ssh-ed25519", 13);
    scanner.answer(VM, first);
    try (Lease lease = lock(VM)) {
      scanner.failFirst(VM, Integer.MAX_VALUE);

      Targets targets = pool.targets(MachineQuery.builder().names(VM).build());

      assertThat(targets.hostKeys()).containsEntry(VM, first);
      log.expect("io.machinepool.MachinePool", "listing targets with the stored keys");
      assertThat(log.entries("io.machinepool.MachinePool", "listing targets with the stored keys"))
          .singleElement()
          .satisfies(e -> assertThat(e.text()).contains(VM));
    }
  }

  private Lease lock(String name) {
    return pool.lock(LockRequest.builder().owner(OWNER).description("run-1").names(name).build());
  }

  /** A key of the given type whose blob differs per seed. */
  private static HostKey key(String type, int seed) {
    byte[] blob = new byte[32];
    blob[0] = (byte) seed;
    return new HostKey(type, java.util.Base64.getEncoder().encodeToString(blob));
  }

  /** Creates nothing, records destroys. */
  private final class RecordingProvisioner implements Provisioner {
    @Override
    public Machine provision(Machine machine, LockRequest request) {
      return machine.withOs("ubuntu", "24.04", "x86_64");
    }

    @Override
    public void release(Machine machine) {
      destroyed.add(machine.name());
    }
  }

  /** Answers each host with its scripted key, after a scripted number of refusals. */
  private static final class ScriptedScanner implements HostKeyScanner {
    private final Map<String, HostKey> keys = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> refusalsLeft = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, List<Integer>> ports = new ConcurrentHashMap<>();

    void answer(String host, HostKey key) {
      keys.put(host, key);
    }

    void failFirst(String host, int times) {
      refusalsLeft.put(host, new AtomicInteger(times));
    }

    int calls(String host) {
      AtomicInteger count = calls.get(host);
      return count == null ? 0 : count.get();
    }

    int totalCalls() {
      return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    List<Integer> ports(String host) {
      return ports.getOrDefault(host, List.of());
    }

    @Override
    public List<HostKey> scan(String host, int port, Duration timeout) {
      assertThat(timeout).isPositive();
      calls.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
      ports.computeIfAbsent(host, h -> new CopyOnWriteArrayList<>()).add(port);
      AtomicInteger refusals = refusalsLeft.get(host);
      if (refusals != null && refusals.getAndDecrement() > 0) {
        throw new ProvisioningException(host, "connection refused", null, null, null);
      }
      HostKey key = keys.get(host);
      if (key == null) {
        throw new ProvisioningException(host, "no key scripted", null, null, null);
      }
      return new ArrayList<>(List.of(key));
    }
  }
}
